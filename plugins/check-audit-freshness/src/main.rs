use check_audit_freshness::{Args, LABEL, check};
use nightwatch_core::FaultStates;

fn main() {
    nightwatch_core::guard::run::<Args, _>(LABEL, FaultStates::default(), check);
}
