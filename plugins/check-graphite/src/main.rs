use check_graphite::{Args, LABEL, check};
use nightwatch_core::FaultStates;

fn main() {
    nightwatch_core::guard::run::<Args, _>(LABEL, FaultStates::default(), check);
}
