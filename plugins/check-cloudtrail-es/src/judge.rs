//! The verdict on each event, made here in Rust and not in the query.
//!
//! Why not in the query: the search engine flattens arrays of objects, so
//! `fromPort:22 AND cidrIp:"0.0.0.0/0"` also matches an event that opens
//! 22 to 10.0.0.0/8 and 443 to the world. Only each permission read on its
//! own says which port is open to whom.
//!
//! The rules:
//! - Ingress open to the world (`0.0.0.0/0`, `::/0`) is CRITICAL on its
//!   own, whatever the count thresholds, unless every port it opens is in
//!   `--allow-world-ports` or its group is in `--allow-groups`. Protocol
//!   `-1` opens every port, so no port list allows it. A
//!   `ModifySecurityGroupRules` call does not say whether the rule is
//!   ingress or egress: it is judged as ingress, since a false page costs
//!   less than a missed open port. Approved automation is no exemption: a
//!   port Terraform opens to the world is as open.
//! - A failed call (`errorCode`) changed nothing: no world-open verdict,
//!   but it is listed (an attempt) and counted.
//! - With `--regions`, an event elsewhere is CRITICAL, failed or not (a
//!   probe of an unused region is the classic sign of stolen keys), except
//!   global services, which log `us-east-1` whatever region is used.
//! - An event by a principal matching `--allow-principal` is approved: it
//!   is listed as such and not counted.

use std::fmt;
use std::str::FromStr;

use crate::event::{Direction, Event, Permission, Protocol};

/// Services whose calls CloudTrail logs in `us-east-1` wherever they are
/// made from.
pub const GLOBAL_SERVICES: &[&str] = &[
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "signin.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "route53domains.amazonaws.com",
    "organizations.amazonaws.com",
    "support.amazonaws.com",
    "health.amazonaws.com",
    "waf.amazonaws.com",
    "shield.amazonaws.com",
    "globalaccelerator.amazonaws.com",
    "account.amazonaws.com",
    "budgets.amazonaws.com",
    "ce.amazonaws.com",
];

/// The region global services log in.
pub const GLOBAL_REGION: &str = "us-east-1";

/// One entry of `--allow-world-ports`: a port, a range, or ICMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortAllow {
    Ports(i64, i64),
    Icmp,
}

impl FromStr for PortAllow {
    type Err = String;

    fn from_str(text: &str) -> Result<PortAllow, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("icmp") {
            return Ok(PortAllow::Icmp);
        }
        let port = |t: &str| {
            t.trim()
                .parse::<u16>()
                .map(i64::from)
                .map_err(|_| format!("{text:?} is not a port, a range such as 8000-8100, or icmp"))
        };
        match text.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (port(a)?, port(b)?);
                if a > b {
                    return Err(format!("{text:?}: the range ends before it starts"));
                }
                Ok(PortAllow::Ports(a, b))
            }
            None => port(text).map(|p| PortAllow::Ports(p, p)),
        }
    }
}

/// An `--allow-principal` glob, matched against the ARN (or, without one,
/// the type and account).
#[derive(Debug, Clone)]
pub struct PrincipalPattern(glob::Pattern);

impl PrincipalPattern {
    #[must_use]
    pub fn matches(&self, identity: &str) -> bool {
        self.0.matches(identity)
    }
}

impl FromStr for PrincipalPattern {
    type Err = String;

    fn from_str(text: &str) -> Result<PrincipalPattern, String> {
        if text.trim().is_empty() {
            return Err("an empty pattern would approve nobody".into());
        }
        glob::Pattern::new(text.trim())
            .map(PrincipalPattern)
            .map_err(|e| format!("{text:?} is not a glob: {e}"))
    }
}

impl fmt::Display for PrincipalPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// What the operator allowed.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub world_ports: Vec<PortAllow>,
    pub groups: Vec<String>,
    pub principals: Vec<PrincipalPattern>,
    /// Empty: every region is in use.
    pub regions: Vec<String>,
}

impl Rules {
    #[must_use]
    pub fn from_args(args: &crate::Args) -> Rules {
        Rules {
            world_ports: args.allow_world_ports.clone(),
            groups: args.allow_groups.clone(),
            principals: args.allow_principal.clone(),
            regions: args.regions.clone(),
        }
    }

    fn allows_world(&self, permission: &Permission, groups: &[String]) -> bool {
        if groups.iter().any(|g| self.groups.contains(g)) {
            return true;
        }
        match (&permission.protocol, permission.ports) {
            (Protocol::Icmp | Protocol::Icmpv6, _) => self.world_ports.contains(&PortAllow::Icmp),
            (p, Some((from, to))) if p.has_ports() => self
                .world_ports
                .iter()
                .any(|allow| matches!(*allow, PortAllow::Ports(a, b) if a <= from && to <= b)),
            // Every protocol, every port, or a protocol without ports.
            _ => false,
        }
    }
}

/// Why an event is CRITICAL on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Risk {
    /// A permission opened to every address.
    WorldOpen {
        /// `tcp 22`.
        what: String,
        /// `0.0.0.0/0`.
        cidr: String,
        group: Option<String>,
    },
    /// Activity in a region not in use.
    OutsideRegions { region: String },
}

/// The verdict on one event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    pub risks: Vec<Risk>,
    /// The `--allow-principal` pattern that approved it.
    pub approved_by: Option<String>,
}

impl Verdict {
    /// Whether the event counts toward the thresholds.
    #[must_use]
    pub fn counted(&self) -> bool {
        self.approved_by.is_none()
    }
}

/// Judges one event against the rules.
#[must_use]
pub fn judge(event: &Event, rules: &Rules) -> Verdict {
    let mut risks = Vec::new();
    if !event.failed() && !event.revokes() {
        for permission in &event.permissions {
            if permission.direction == Direction::Egress
                || rules.allows_world(permission, &event.groups)
            {
                continue;
            }
            if let Some(world) = permission.peers.iter().find(|p| p.is_world()) {
                risks.push(Risk::WorldOpen {
                    what: permission.what(),
                    cidr: world.to_string(),
                    group: event.groups.first().cloned(),
                });
            }
        }
    }
    if !rules.regions.is_empty()
        && let Some(region) = &event.region
        && !rules.regions.iter().any(|r| r.eq_ignore_ascii_case(region))
        && !is_global(event)
    {
        risks.push(Risk::OutsideRegions {
            region: region.clone(),
        });
    }
    let identity = event.principal.identity();
    let approved_by = rules
        .principals
        .iter()
        .find(|p| p.matches(&identity))
        .map(ToString::to_string);
    Verdict { risks, approved_by }
}

fn is_global(event: &Event) -> bool {
    event.region.as_deref() == Some(GLOBAL_REGION)
        && event
            .source
            .as_deref()
            .is_some_and(|s| GLOBAL_SERVICES.contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    proptest! {
        #[test]
        fn port_lists_read_back_and_never_panic(text in "\\PC{0,12}", a in 0u16.., b in 0u16..) {
            if let Ok(PortAllow::Ports(from, to)) = text.parse::<PortAllow>() {
                prop_assert!(0 <= from && from <= to && to <= 65535);
            }
            let (low, high) = (a.min(b), a.max(b));
            prop_assert_eq!(
                format!("{low}-{high}").parse::<PortAllow>(),
                Ok(PortAllow::Ports(i64::from(low), i64::from(high)))
            );
        }
    }

    fn ingress(permissions: &Value) -> Event {
        Event::from_source(&json!({
            "eventName": "AuthorizeSecurityGroupIngress",
            "eventSource": "ec2.amazonaws.com",
            "awsRegion": "eu-west-1",
            "userIdentity": {"type": "AssumedRole",
                             "arn": "arn:aws:sts::123456789012:assumed-role/terraform/ci"},
            "requestParameters": {"groupId": "sg-web", "ipPermissions": {"items": permissions}}
        }))
        .unwrap()
    }

    fn tcp(port: i64, cidr: &str) -> Value {
        json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port,
               "ipRanges": {"items": [{"cidrIp": cidr}]}})
    }

    fn rules(ports: &[&str], groups: &[&str]) -> Rules {
        Rules {
            world_ports: ports.iter().map(|p| p.parse().unwrap()).collect(),
            groups: groups.iter().map(|&g| g.to_owned()).collect(),
            ..Rules::default()
        }
    }

    #[test]
    fn each_permission_is_judged_alone_not_as_the_engine_flattens_it() {
        // 22 to a private range and 443 to the world: the flattened
        // document has both "22" and "0.0.0.0/0", but only 443 is open.
        let event = ingress(&json!([tcp(22, "10.0.0.0/8"), tcp(443, "0.0.0.0/0")]));
        let verdict = judge(&event, &Rules::default());
        assert_eq!(
            verdict.risks,
            [Risk::WorldOpen {
                what: "tcp 443".into(),
                cidr: "0.0.0.0/0".into(),
                group: Some("sg-web".into())
            }]
        );
        assert!(judge(&event, &rules(&["443"], &[])).risks.is_empty());
        assert!(judge(&event, &rules(&["80-8443"], &[])).risks.is_empty());
        assert!(judge(&event, &rules(&[], &["sg-web"])).risks.is_empty());
        assert_eq!(judge(&event, &rules(&["22", "80"], &[])).risks.len(), 1);
    }

    #[test]
    fn every_port_is_allowed_by_no_port_list() {
        let all = ingress(&json!([{"ipProtocol": "-1",
            "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]}}]));
        let verdict = judge(&all, &rules(&["0-65535", "icmp"], &[]));
        assert_eq!(verdict.risks.len(), 1, "{verdict:?}");
        let wide = ingress(
            &json!([{"ipProtocol": "tcp", "fromPort": 0, "toPort": 65535,
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]),
        );
        assert!(judge(&wide, &rules(&["443"], &[])).risks.len() == 1);
        let ping = ingress(&json!([{"ipProtocol": "icmp", "fromPort": 8, "toPort": -1,
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]));
        assert_eq!(judge(&ping, &Rules::default()).risks.len(), 1);
        assert!(judge(&ping, &rules(&["icmp"], &[])).risks.is_empty());
    }

    #[test]
    fn egress_revokes_and_failed_calls_open_nothing() {
        let mut event = ingress(&json!([tcp(22, "0.0.0.0/0")]));
        event.name = "AuthorizeSecurityGroupEgress".into();
        event.permissions[0].direction = Direction::Egress;
        assert!(judge(&event, &Rules::default()).risks.is_empty());
        let mut revoke = ingress(&json!([tcp(22, "0.0.0.0/0")]));
        revoke.name = "RevokeSecurityGroupIngress".into();
        assert!(judge(&revoke, &Rules::default()).risks.is_empty());
        let mut failed = ingress(&json!([tcp(22, "0.0.0.0/0")]));
        failed.error = Some(crate::event::CallError {
            code: "UnauthorizedOperation".into(),
            message: None,
        });
        assert!(judge(&failed, &Rules::default()).risks.is_empty());
    }

    #[test]
    fn regions_spare_global_services_in_us_east_1() {
        let in_use = Rules {
            regions: vec!["eu-west-1".into()],
            ..Rules::default()
        };
        let event = |source: &str, region: &str| {
            Event::from_source(&json!({"eventName": "CreateUser", "eventSource": source,
                                       "awsRegion": region}))
            .unwrap()
        };
        assert!(
            judge(&event("iam.amazonaws.com", "us-east-1"), &in_use)
                .risks
                .is_empty()
        );
        assert!(
            judge(&event("ec2.amazonaws.com", "EU-WEST-1"), &in_use)
                .risks
                .is_empty()
        );
        assert_eq!(
            judge(&event("ec2.amazonaws.com", "us-east-1"), &in_use).risks,
            [Risk::OutsideRegions {
                region: "us-east-1".into()
            }]
        );
        assert_eq!(
            judge(&event("iam.amazonaws.com", "ap-south-1"), &in_use)
                .risks
                .len(),
            1
        );
    }

    #[test]
    fn approved_automation_is_not_counted_but_still_judged() {
        let rules = Rules {
            principals: vec!["arn:aws:sts::*:assumed-role/terraform/*".parse().unwrap()],
            ..Rules::default()
        };
        let verdict = judge(&ingress(&json!([tcp(22, "0.0.0.0/0")])), &rules);
        assert_eq!(
            verdict.approved_by.as_deref(),
            Some("arn:aws:sts::*:assumed-role/terraform/*")
        );
        assert!(!verdict.counted());
        assert_eq!(verdict.risks.len(), 1);
        let other = Rules {
            principals: vec!["arn:aws:iam::*:user/deploy".parse().unwrap()],
            ..Rules::default()
        };
        assert!(judge(&ingress(&json!([])), &other).counted());
    }

    #[test]
    fn port_lists_are_ports() {
        assert_eq!("443".parse(), Ok(PortAllow::Ports(443, 443)));
        assert_eq!(" 8000-8100".parse(), Ok(PortAllow::Ports(8000, 8100)));
        assert_eq!("ICMP".parse(), Ok(PortAllow::Icmp));
        for bad in ["", "22-", "65536", "100-10", "ssh"] {
            assert!(bad.parse::<PortAllow>().is_err(), "{bad}");
        }
        assert!("".parse::<PrincipalPattern>().is_err());
        assert!("arn:[".parse::<PrincipalPattern>().is_err());
    }
}
