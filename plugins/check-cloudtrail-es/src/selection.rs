//! Which events to fetch: `--query`, the presets and `--type` as one
//! Lucene `query_string`, the text an operator can paste into Kibana (and
//! the one `--link-template` puts in its link).
//!
//! Each preset names its events exactly, and pins `eventSource`: a bare
//! `Authorize*` also matches RDS, Redshift, ElastiCache and Client VPN
//! calls. Values are quoted: in this syntax a `/` starts a regex and `-`
//! negates, so `us-east-1` and CIDRs must be phrases.

use nightwatch_search::Window;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::args::Preset;
use crate::judge::{GLOBAL_REGION, GLOBAL_SERVICES};

/// Security-group changes on EC2.
const SECURITY_GROUP_EVENTS: &[&str] = &[
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "CreateSecurityGroup",
    "ModifySecurityGroupRules",
];

/// New identities, keys and rights in IAM.
const IAM_EVENTS: &[&str] = &[
    "CreateUser",
    "CreateAccessKey",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "AddUserToGroup",
    "AttachUserPolicy",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "PutUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "CreateRole",
    "UpdateAssumeRolePolicy",
    "CreatePolicyVersion",
    "SetDefaultPolicyVersion",
];

/// Calls that stop or narrow the audit trail itself.
const TRAIL_EVENTS: &[&str] = &[
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
];

/// Why the selection cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error(
        "nothing to look for: give --query (such as 'Authorize*' with --field eventName) or --preset"
    )]
    Empty,
    #[error("--preset regions needs --regions, the regions in use (such as us-east-1,eu-west-1)")]
    RegionsMissing,
}

/// `"text"`, escaped for `query_string`.
#[must_use]
pub fn phrase(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

fn one_of(field: &str, values: &[&str]) -> String {
    let values: Vec<String> = values.iter().map(|v| phrase(v)).collect();
    format!("{field}:({})", values.join(" OR "))
}

fn from_service(service: &str, events: &[&str]) -> String {
    format!(
        "eventSource:{} AND {}",
        phrase(service),
        one_of("eventName", events)
    )
}

/// A preset's `query_string`.
#[must_use]
pub fn preset_query(preset: Preset, regions: &[String]) -> String {
    match preset {
        Preset::SecurityGroups => from_service("ec2.amazonaws.com", SECURITY_GROUP_EVENTS),
        Preset::Iam => from_service("iam.amazonaws.com", IAM_EVENTS),
        Preset::Root => "userIdentity.type:Root".into(),
        Preset::Trail => from_service("cloudtrail.amazonaws.com", TRAIL_EVENTS),
        Preset::Regions => {
            let regions: Vec<&str> = regions.iter().map(String::as_str).collect();
            format!(
                "*:* -{} -(awsRegion:{} AND {})",
                one_of("awsRegion", &regions),
                phrase(GLOBAL_REGION),
                one_of("eventSource", GLOBAL_SERVICES)
            )
        }
    }
}

/// `--query` and the presets (any of them), within `--type`.
pub fn query_text(
    query: Option<&str>,
    presets: &[Preset],
    regions: &[String],
    doc_type: Option<&str>,
) -> Result<String, SelectionError> {
    if presets.contains(&Preset::Regions) && regions.is_empty() {
        return Err(SelectionError::RegionsMissing);
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) {
        parts.push(query.to_owned());
    }
    let mut seen = Vec::new();
    for &preset in presets {
        if !seen.contains(&preset) {
            seen.push(preset);
            parts.push(preset_query(preset, regions));
        }
    }
    let selection = match parts.as_slice() {
        [] => return Err(SelectionError::Empty),
        [one] => one.clone(),
        many => many
            .iter()
            .map(|p| format!("({p})"))
            .collect::<Vec<_>>()
            .join(" OR "),
    };
    Ok(match doc_type {
        Some(kind) => format!("({selection}) AND type:{}", phrase(kind)),
        None => selection,
    })
}

/// `--link-template` with `{query}`, `{from}`, `{to}` and `{index}` filled
/// in, each URL-encoded.
#[must_use]
pub fn link(template: &str, query: &str, window: &Window, indices: &[String]) -> String {
    let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
    let time = |t: nightwatch_search::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    template
        .replace("{query}", &encode(query))
        .replace("{from}", &encode(&time(window.from)))
        .replace("{to}", &encode(&time(window.to)))
        .replace("{index}", &encode(&indices.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_and_presets_are_alternatives_within_the_type() {
        assert_eq!(
            query_text(Some("Authorize*"), &[], &[], None).unwrap(),
            "Authorize*"
        );
        assert_eq!(
            query_text(Some("Authorize*"), &[], &[], Some("cloudtrail")).unwrap(),
            "(Authorize*) AND type:\"cloudtrail\""
        );
        let both = query_text(
            Some("eventName:Delete*"),
            &[Preset::Root, Preset::Root, Preset::Trail],
            &[],
            None,
        )
        .unwrap();
        assert_eq!(
            both,
            "(eventName:Delete*) OR (userIdentity.type:Root) OR (eventSource:\"cloudtrail.amazonaws.com\" AND eventName:(\"StopLogging\" OR \"DeleteTrail\" OR \"UpdateTrail\" OR \"PutEventSelectors\"))"
        );
        assert_eq!(query_text(None, &[], &[], None), Err(SelectionError::Empty));
        assert_eq!(
            query_text(Some("  "), &[], &[], None),
            Err(SelectionError::Empty)
        );
    }

    #[test]
    fn the_security_group_preset_pins_ec2() {
        let text = preset_query(Preset::SecurityGroups, &[]);
        assert!(
            text.starts_with("eventSource:\"ec2.amazonaws.com\" AND eventName:("),
            "{text}"
        );
        assert!(!text.contains('*'), "names, not wildcards: {text}");
    }

    #[test]
    fn regions_are_phrases_and_spare_global_services() {
        assert_eq!(
            query_text(None, &[Preset::Regions], &[], None),
            Err(SelectionError::RegionsMissing)
        );
        let text = preset_query(Preset::Regions, &["eu-west-1".into(), "us-west-2".into()]);
        assert!(
            text.starts_with("*:* -awsRegion:(\"eu-west-1\" OR \"us-west-2\") -(awsRegion:\"us-east-1\" AND eventSource:(\"iam.amazonaws.com\""),
            "{text}"
        );
    }

    #[test]
    fn phrases_escape_quotes_and_backslashes() {
        assert_eq!(phrase(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(phrase("0.0.0.0/0"), "\"0.0.0.0/0\"");
    }

    #[test]
    fn links_carry_the_query_and_window_encoded() {
        let window = Window::new(
            "2026-11-24T23:40:00Z".parse().unwrap(),
            "2026-11-25T00:10:00Z".parse().unwrap(),
        );
        let url = link(
            "https://kibana/app/discover#/?q={query}&from={from}&to={to}&i={index}",
            "eventName:\"X\" AND a/b",
            &window,
            &["l-2026.11.24".into(), "l-2026.11.25".into()],
        );
        assert_eq!(
            url,
            "https://kibana/app/discover#/?q=eventName%3A%22X%22%20AND%20a%2Fb&from=2026%2D11%2D24T23%3A40%3A00Z&to=2026%2D11%2D25T00%3A10%3A00Z&i=l%2D2026%2E11%2E24%2Cl%2D2026%2E11%2E25"
        );
    }
}
