//! A CloudTrail event as the search server returns it, read into what an
//! operator needs: when, who, what, from where, whether it changed
//! anything (`readOnly`), what it acted on ([`Event::targets`]), and for
//! security-group changes every permission granted or revoked.
//! check-cloudtrail-es judges these; check-change-window cross-checks the
//! write events against change windows.
//!
//! The shapes are AWS's documented ones (the CloudTrail record contents and
//! the EC2 API's `ipPermissions` / `securityGroupRuleSet` /
//! `ModifySecurityGroupRulesRequest`), plus the EC2-Classic style
//! `cIDRIP` of RDS and Redshift security groups. Documents come from a
//! server we do not control and from Logstash pipelines we do not know:
//! every field may be missing, of another type, stored nested
//! (`{"userIdentity": {"arn": …}}`) or with a dotted name
//! (`{"userIdentity.arn": …}`). Nothing here panics on any JSON.

// AWS names (CloudTrail, StopLogging) are prose here, as AWS writes them.
#![allow(clippy::doc_markdown)]

use std::fmt;
use std::net::IpAddr;

use serde_json::Value;

/// The fields a listing and the judging read; a `_source` filter asks for
/// these alone (nested or dotted, hence the wildcards).
pub const SOURCE_FIELDS: &[&str] = &[
    "eventTime",
    "eventName",
    "eventSource",
    "awsRegion",
    "sourceIPAddress",
    "errorCode",
    "errorMessage",
    "readOnly",
    "resources*",
    "userIdentity*",
    "requestParameters*",
    "responseElements.securityGroupRuleSet*",
    "responseElements.instancesSet*",
];

/// A `query_string` clause that leaves out the calls CloudTrail marks
/// read-only; events without the field stay (and are judged by name,
/// [`Event::is_read_only`]).
pub const NOT_READ_ONLY: &str = "NOT readOnly:true";

/// Call names that only read, for events that carry no `readOnly`.
const READ_PREFIXES: &[&str] = &["Get", "List", "Describe", "Head", "Lookup", "BatchGet"];

/// Why a document could not be read as a CloudTrail event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("it is not JSON: {0}")]
    NotJson(String),
    #[error("it is not a JSON object")]
    NotAnObject,
    #[error("it has no eventName: is this index CloudTrail's?")]
    NoEventName,
}

/// Who made the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// `IAMUser`, `AssumedRole`, `Root`, `AWSService`, …
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub account: Option<String>,
    pub user_name: Option<String>,
    /// The service acting for the principal (`AWSService` calls).
    pub invoked_by: Option<String>,
}

impl Principal {
    /// The ARN, or the type and account when there is none.
    #[must_use]
    pub fn identity(&self) -> String {
        if let Some(arn) = &self.arn {
            return arn.clone();
        }
        let kind = self.kind.as_deref().unwrap_or("unknown principal");
        match (&self.account, &self.invoked_by) {
            (_, Some(service)) => format!("{kind} {service}"),
            (Some(account), None) => format!("{kind} in account {account}"),
            (None, None) => kind.to_owned(),
        }
    }

    /// A few characters for the first line: `alice`, `role terraform`,
    /// `root`.
    #[must_use]
    pub fn short(&self) -> String {
        if self.kind.as_deref() == Some("Root") {
            return "root".into();
        }
        if let Some(arn) = &self.arn {
            // arn:aws:iam::123:user/alice, arn:aws:sts::123:assumed-role/terraform/session
            let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
            let mut parts = resource.split('/');
            return match (parts.next(), parts.next()) {
                (Some("assumed-role" | "role"), Some(role)) => format!("role {role}"),
                (Some(_), Some(name)) => resource
                    .rsplit('/')
                    .next()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(name)
                    .to_owned(),
                _ => resource.to_owned(),
            };
        }
        self.user_name
            .clone()
            .or_else(|| self.invoked_by.clone())
            .unwrap_or_else(|| self.identity())
    }
}

/// Which way a rule lets traffic through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
    /// `ModifySecurityGroupRules` names a rule, not its direction.
    Unknown,
}

/// The protocol of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// `-1`: every protocol and every port.
    All,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// Any other protocol, by name or number.
    Other(String),
}

impl Protocol {
    fn parse(text: &str) -> Protocol {
        match text.trim().to_ascii_lowercase().as_str() {
            "-1" | "all" | "" => Protocol::All,
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" => Protocol::Icmp,
            "icmpv6" | "58" => Protocol::Icmpv6,
            other => Protocol::Other(other.to_owned()),
        }
    }

    /// Whether the rule's ports are TCP/UDP ports.
    #[must_use]
    pub fn has_ports(&self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all traffic"),
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Icmpv6 => f.write_str("icmpv6"),
            Protocol::Other(name) => write!(f, "protocol {name}"),
        }
    }
}

/// Where a rule lets traffic come from (or go to, for egress).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Cidr(String),
    PrefixList(String),
    Group(String),
}

impl Peer {
    /// `0.0.0.0/0`, `::/0`: every address. A bare address or any other
    /// prefix is not the world.
    #[must_use]
    pub fn is_world(&self) -> bool {
        let Peer::Cidr(cidr) = self else {
            return false;
        };
        let Some((address, prefix)) = cidr.trim().split_once('/') else {
            return false;
        };
        address.parse::<IpAddr>().is_ok() && prefix.trim().parse::<u8>() == Ok(0)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Cidr(cidr) => f.write_str(cidr),
            Peer::PrefixList(id) => write!(f, "prefix list {id}"),
            Peer::Group(id) => write!(f, "group {id}"),
        }
    }
}

/// One permission of a security-group change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub direction: Direction,
    pub protocol: Protocol,
    /// The port range for TCP and UDP; `None` when the rule names none
    /// (every port for `-1`, the database's port for RDS).
    pub ports: Option<(i64, i64)>,
    pub peers: Vec<Peer>,
    /// The rule changed, when the event names it (`sgr-…`).
    pub rule_id: Option<String>,
}

impl Permission {
    /// `tcp 22`, `tcp 8000-8100`, `all traffic`, `icmp`.
    #[must_use]
    pub fn what(&self) -> String {
        match (&self.protocol, self.ports) {
            (p, Some((from, to))) if p.has_ports() && from == to => format!("{p} {from}"),
            (p, Some((0 | -1, 65535))) if p.has_ports() => format!("{p} all ports"),
            (p, Some((from, to))) if p.has_ports() => format!("{p} {from}-{to}"),
            // RDS and Redshift groups name no port: the database's own.
            (p, None) if p.has_ports() => "the database port".to_owned(),
            (p, _) => p.to_string(),
        }
    }
}

/// A call's failure: the event records an attempt, not a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub code: String,
    pub message: Option<String>,
}

/// One CloudTrail event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `eventTime` as recorded.
    pub time: Option<String>,
    pub name: String,
    /// `ec2.amazonaws.com`.
    pub source: Option<String>,
    pub region: Option<String>,
    pub source_ip: Option<String>,
    pub principal: Principal,
    pub error: Option<CallError>,
    /// `readOnly` as recorded: `None` when the event does not say.
    pub read_only: Option<bool>,
    /// The ARNs of the `resources` the event lists.
    pub resources: Vec<String>,
    /// Instances, databases, buckets and functions the request or its
    /// reply names (ids, not ARNs).
    pub named: Vec<String>,
    /// The security groups changed (ids, or names where the call used them).
    pub groups: Vec<String>,
    pub permissions: Vec<Permission>,
}

impl Event {
    /// Reads a document's bytes, as a fuzzer or a file hands them.
    pub fn parse(bytes: &[u8]) -> Result<Event, EventError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| EventError::NotJson(e.to_string()))?;
        Event::from_source(&value)
    }

    /// Reads a hit's `_source`.
    pub fn from_source(doc: &Value) -> Result<Event, EventError> {
        if !doc.is_object() {
            return Err(EventError::NotAnObject);
        }
        let expanded = expand_dots(doc);
        let doc = &expanded;
        let name = text(doc, "eventName").ok_or(EventError::NoEventName)?;
        let principal = Principal {
            kind: text(doc, "userIdentity.type"),
            arn: text(doc, "userIdentity.arn"),
            account: text(doc, "userIdentity.accountId")
                .or_else(|| text(doc, "recipientAccountId")),
            user_name: text(doc, "userIdentity.userName"),
            invoked_by: text(doc, "userIdentity.invokedBy"),
        };
        let error = text(doc, "errorCode").map(|code| CallError {
            code,
            message: text(doc, "errorMessage"),
        });
        let mut event = Event {
            time: text(doc, "eventTime"),
            source: text(doc, "eventSource"),
            region: text(doc, "awsRegion"),
            source_ip: text(doc, "sourceIPAddress"),
            principal,
            error,
            read_only: get(doc, "readOnly").and_then(boolean),
            resources: get(doc, "resources")
                .into_iter()
                .flat_map(items)
                .filter_map(|r| text(r, "ARN").or_else(|| text(r, "arn")))
                .collect(),
            named: Vec::new(),
            groups: Vec::new(),
            permissions: Vec::new(),
            name,
        };
        event.read_changes(doc);
        event.read_named(doc);
        Ok(event)
    }

    /// Whether the call only read: `readOnly` when the event has it, else
    /// a name that starts like a read (`Get…`, `List…`, `Describe…`).
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.read_only.unwrap_or_else(|| {
            READ_PREFIXES.iter().any(|prefix| {
                self.name
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
            })
        })
    }

    /// What the call acted on, as the names a change record lists as
    /// hosts: each resource's ARN and its id (the part after the last `/`
    /// or `:`, `i-0abc…` of `arn:aws:ec2:…:instance/i-0abc…`), the
    /// instances, databases, buckets and functions the request names, and
    /// the security groups changed. First seen first, each once.
    #[must_use]
    pub fn targets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for arn in &self.resources {
            push_unique(&mut out, arn.clone());
            if let Some(id) = resource_id(arn) {
                push_unique(&mut out, id.to_owned());
            }
        }
        for name in self.named.iter().chain(&self.groups) {
            push_unique(&mut out, name.clone());
        }
        out
    }

    /// The ids of instances, databases, buckets and functions the
    /// request or the reply names.
    fn read_named(&mut self, doc: &Value) {
        let empty = Value::Null;
        let request = get(doc, "requestParameters").unwrap_or(&empty);
        for key in [
            "instanceId",
            "dBInstanceIdentifier",
            "dBClusterIdentifier",
            "bucketName",
            "functionName",
        ] {
            if let Some(name) = text(request, key) {
                push_unique(&mut self.named, name);
            }
        }
        // StartInstances, StopInstances, TerminateInstances name them in
        // the request; RunInstances only in its reply.
        for place in [
            get(request, "instancesSet"),
            get(doc, "responseElements.instancesSet"),
        ] {
            for item in place.into_iter().flat_map(items) {
                if let Some(id) = text(item, "instanceId") {
                    push_unique(&mut self.named, id);
                }
            }
        }
        if let Some(set) = get(request, "resourcesSet") {
            for item in items(set) {
                if let Some(id) = text(item, "resourceId") {
                    push_unique(&mut self.named, id);
                }
            }
        }
    }

    /// Whether the call failed (an attempt, not a change).
    #[must_use]
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Whether the call takes permissions away (`Revoke*`) rather than
    /// granting them.
    #[must_use]
    pub fn revokes(&self) -> bool {
        self.name.starts_with("Revoke")
    }

    fn direction(&self) -> Direction {
        if self.name.contains("Egress") {
            Direction::Egress
        } else if self.name.contains("Ingress") {
            Direction::Ingress
        } else {
            Direction::Unknown
        }
    }

    fn read_changes(&mut self, doc: &Value) {
        let empty = Value::Null;
        let request = get(doc, "requestParameters").unwrap_or(&empty);
        let direction = self.direction();
        for key in [
            "groupId",
            "groupName",
            "dBSecurityGroupName",
            "clusterSecurityGroupName",
            "cacheSecurityGroupName",
        ] {
            if let Some(group) = text(request, key) {
                push_unique(&mut self.groups, group);
            }
        }
        // EC2: ipPermissions.items[] (the documented shape of every
        // Authorize*/Revoke* call since 2014).
        if let Some(permissions) = get(request, "ipPermissions") {
            for item in items(permissions) {
                self.permissions.push(ip_permission(item, direction));
            }
        }
        // EC2's older flat form: cidrIp, ipProtocol, fromPort, toPort.
        if let Some(cidr) = text(request, "cidrIp") {
            self.permissions.push(Permission {
                direction,
                protocol: Protocol::parse(&text(request, "ipProtocol").unwrap_or_default()),
                ports: ports(request, "fromPort", "toPort"),
                peers: vec![Peer::Cidr(cidr)],
                rule_id: None,
            });
        }
        // RDS and Redshift (EC2-Classic) security groups: one CIDR or group.
        let classic_peer = text(request, "cIDRIP").map(Peer::Cidr).or_else(|| {
            text(request, "eC2SecurityGroupId")
                .or_else(|| text(request, "eC2SecurityGroupName"))
                .map(Peer::Group)
        });
        if let Some(peer) = classic_peer {
            self.permissions.push(Permission {
                direction,
                protocol: Protocol::Tcp,
                ports: None,
                peers: vec![peer],
                rule_id: None,
            });
        }
        // ModifySecurityGroupRules: the rules by id, direction not given.
        if let Some(modify) = get(request, "ModifySecurityGroupRulesRequest") {
            if let Some(group) = text(modify, "GroupId") {
                push_unique(&mut self.groups, group);
            }
            if let Some(rules) = get(modify, "SecurityGroupRule") {
                for rule in items(rules) {
                    self.permissions.push(modified_rule(rule));
                }
            }
        }
        // Newer clients may send only the rule set; the reply always has it.
        if self.permissions.is_empty()
            && let Some(set) = get(doc, "responseElements.securityGroupRuleSet")
        {
            for rule in items(set) {
                if let Some(group) = text(rule, "groupId") {
                    push_unique(&mut self.groups, group);
                }
                self.permissions.push(rule_set_item(rule, direction));
            }
        }
    }
}

/// A list of peers in an `ipPermissions` item: its name, the keys naming
/// a peer in each entry (the first present wins), and the kind of peer.
type PeerList = (&'static str, &'static [&'static str], fn(String) -> Peer);

fn ip_permission(item: &Value, direction: Direction) -> Permission {
    let lists: [PeerList; 4] = [
        ("ipRanges", &["cidrIp"], Peer::Cidr),
        ("ipv6Ranges", &["cidrIpv6"], Peer::Cidr),
        ("prefixListIds", &["prefixListId"], Peer::PrefixList),
        ("groups", &["groupId", "groupName"], Peer::Group),
    ];
    let mut peers = Vec::new();
    for (list, keys, kind) in lists {
        let entries = get(item, list).into_iter().flat_map(items);
        peers.extend(
            entries
                .filter_map(|entry| keys.iter().find_map(|key| text(entry, key)))
                .map(kind),
        );
    }
    Permission {
        direction,
        protocol: Protocol::parse(&text(item, "ipProtocol").unwrap_or_default()),
        ports: ports(item, "fromPort", "toPort"),
        peers,
        rule_id: None,
    }
}

/// `{SecurityGroupRuleId, SecurityGroupRule: {IpProtocol, FromPort, …}}`.
fn modified_rule(rule: &Value) -> Permission {
    let body = get(rule, "SecurityGroupRule").unwrap_or(rule);
    let mut peers = Vec::new();
    for (key, wrap) in [
        ("CidrIpv4", Peer::Cidr as fn(String) -> Peer),
        ("CidrIpv6", Peer::Cidr),
        ("PrefixListId", Peer::PrefixList),
        ("ReferencedGroupId", Peer::Group),
    ] {
        if let Some(value) = text(body, key) {
            peers.push(wrap(value));
        }
    }
    Permission {
        direction: Direction::Unknown,
        protocol: Protocol::parse(&text(body, "IpProtocol").unwrap_or_default()),
        ports: ports(body, "FromPort", "ToPort"),
        peers,
        rule_id: text(rule, "SecurityGroupRuleId"),
    }
}

/// `securityGroupRuleSet.items[]`: `{isEgress, ipProtocol, cidrIpv4, …}`.
fn rule_set_item(rule: &Value, direction: Direction) -> Permission {
    let mut peers = Vec::new();
    for (key, wrap) in [
        ("cidrIpv4", Peer::Cidr as fn(String) -> Peer),
        ("cidrIpv6", Peer::Cidr),
        ("prefixListId", Peer::PrefixList),
        ("referencedGroupInfo.groupId", Peer::Group),
    ] {
        if let Some(value) = text(rule, key) {
            peers.push(wrap(value));
        }
    }
    let direction = match get(rule, "isEgress").and_then(boolean) {
        Some(true) => Direction::Egress,
        Some(false) => Direction::Ingress,
        None => direction,
    };
    Permission {
        direction,
        protocol: Protocol::parse(&text(rule, "ipProtocol").unwrap_or_default()),
        ports: ports(rule, "fromPort", "toPort"),
        peers,
        rule_id: text(rule, "securityGroupRuleId"),
    }
}

/// The id at the end of an ARN: after the last `/`, else the last `:`.
fn resource_id(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let id = resource.rsplit(['/', ':']).next()?;
    (!id.is_empty()).then_some(id)
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// The port range of a rule; a missing end is the other end.
fn ports(value: &Value, from: &str, to: &str) -> Option<(i64, i64)> {
    let from = get(value, from).and_then(integer);
    let to = get(value, to).and_then(integer);
    match (from, to) {
        (Some(a), Some(b)) => Some((a.min(b), a.max(b))),
        (Some(a), None) | (None, Some(a)) => Some((a, a)),
        (None, None) => None,
    }
}

/// The members of a CloudTrail list: `{"items": [...]}`, a bare array, or
/// one object where a pipeline unwrapped a single-item list.
fn items(value: &Value) -> impl Iterator<Item = &Value> {
    let inner = get(value, "items").unwrap_or(value);
    let slice: &[Value] = match inner {
        Value::Array(all) => all,
        Value::Object(map) if !map.is_empty() => std::slice::from_ref(inner),
        _ => &[],
    };
    slice.iter().filter(|v| v.is_object())
}

/// The field at a dotted `path` of a document whose dotted names were
/// expanded ([`expand_dots`]).
#[must_use]
pub fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |v, key| v.as_object()?.get(key))
}

/// The document with every dotted name (`{"userIdentity.arn": …}`) turned
/// into the nested objects it stands for, as Elasticsearch itself maps
/// it. Where both spellings hold a value, the nested one wins: a name
/// sorts before its dotted extensions, so it is read first.
#[must_use]
pub fn expand_dots(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return match value {
            Value::Array(all) => Value::Array(all.iter().map(expand_dots).collect()),
            other => other.clone(),
        };
    };
    let mut out = serde_json::Map::new();
    for (key, inner) in map {
        insert_path(&mut out, key, expand_dots(inner));
    }
    Value::Object(out)
}

fn insert_path(map: &mut serde_json::Map<String, Value>, path: &str, value: Value) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) if !head.is_empty() && !rest.is_empty() => (head, Some(rest)),
        _ => (path, None),
    };
    match (map.get_mut(head), rest) {
        (None, None) => {
            map.insert(head.to_owned(), value);
        }
        (None, Some(rest)) => {
            let mut inner = serde_json::Map::new();
            insert_path(&mut inner, rest, value);
            map.insert(head.to_owned(), Value::Object(inner));
        }
        (Some(Value::Object(existing)), Some(rest)) => insert_path(existing, rest, value),
        (Some(Value::Object(existing)), None) => {
            if let Value::Object(more) = value {
                for (key, inner) in more {
                    insert_path(existing, &key, inner);
                }
            }
        }
        // A value already there: the one read first (the nested) wins.
        (Some(_), _) => {}
    }
}

/// A non-empty string, or a number written as one.
fn text(value: &Value, path: &str) -> Option<String> {
    match get(value, path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn world_ssh() -> Value {
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice",
                             "accountId": "123456789012", "userName": "alice"},
            "eventTime": "2026-11-24T23:55:12Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "AuthorizeSecurityGroupIngress",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7",
            "requestParameters": {
                "groupId": "sg-0a1b2c3d4e5f67890",
                "ipPermissions": {"items": [
                    {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {},
                     "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                     "ipv6Ranges": {}, "prefixListIds": {}},
                    {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                     "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]},
                     "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]},
                     "prefixListIds": {"items": [{"prefixListId": "pl-0123abcd"}]},
                     "groups": {"items": [{"groupId": "sg-0ffee", "userId": "123456789012"}]}}
                ]}
            }
        })
    }

    #[test]
    fn every_permission_keeps_its_own_port_and_peers() {
        let event = Event::from_source(&world_ssh()).unwrap();
        assert_eq!(event.name, "AuthorizeSecurityGroupIngress");
        assert_eq!(event.groups, ["sg-0a1b2c3d4e5f67890"]);
        assert_eq!(event.permissions.len(), 2);
        let [ssh, https] = &event.permissions[..] else {
            unreachable!()
        };
        assert_eq!(ssh.what(), "tcp 22");
        assert_eq!(ssh.peers, [Peer::Cidr("0.0.0.0/0".into())]);
        assert_eq!(ssh.direction, Direction::Ingress);
        assert_eq!(
            https.peers,
            [
                Peer::Cidr("10.0.0.0/8".into()),
                Peer::Cidr("::/0".into()),
                Peer::PrefixList("pl-0123abcd".into()),
                Peer::Group("sg-0ffee".into())
            ]
        );
        assert_eq!(event.principal.short(), "alice");
        assert!(!event.failed());
    }

    #[test]
    fn dotted_field_names_read_as_nested_ones() {
        let dotted = json!({
            "eventName": "AuthorizeSecurityGroupIngress",
            "userIdentity.arn": "arn:aws:iam::123456789012:user/alice",
            "userIdentity.type": "IAMUser",
            "requestParameters.groupId": "sg-1",
            "requestParameters.ipPermissions.items": [
                {"ipProtocol": "-1", "ipRanges.items": [{"cidrIp": "0.0.0.0/0"}]}
            ]
        });
        let event = Event::from_source(&dotted).unwrap();
        assert_eq!(event.groups, ["sg-1"]);
        assert_eq!(event.permissions[0].protocol, Protocol::All);
        assert_eq!(event.permissions[0].what(), "all traffic");
        assert!(event.permissions[0].peers[0].is_world());
        assert_eq!(
            event.principal.identity(),
            "arn:aws:iam::123456789012:user/alice"
        );
    }

    #[test]
    fn nested_and_dotted_names_merge_and_the_nested_value_wins() {
        let mixed = json!({
            "userIdentity": {"type": "IAMUser"},
            "userIdentity.arn": "arn:aws:iam::123456789012:user/alice",
            "a.b": 1,
            "a": {"b": 2, "c": 3},
            "x.": "trailing dot",
            ".y": "leading dot"
        });
        let expanded = expand_dots(&mixed);
        assert_eq!(
            get(&expanded, "userIdentity"),
            Some(&json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"}))
        );
        assert_eq!(get(&expanded, "a.b"), Some(&json!(2)));
        assert_eq!(get(&expanded, "a.c"), Some(&json!(3)));
        assert_eq!(expanded["x."], json!("trailing dot"));
        assert_eq!(expanded[".y"], json!("leading dot"));
    }

    #[test]
    fn modify_rules_and_rule_sets_and_classic_groups() {
        let modify = Event::from_source(&json!({
            "eventName": "ModifySecurityGroupRules",
            "requestParameters": {"ModifySecurityGroupRulesRequest": {
                "GroupId": "sg-2",
                "SecurityGroupRule": {"tag": 1, "SecurityGroupRuleId": "sgr-9",
                    "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
                                          "CidrIpv4": "0.0.0.0/0"}}}}
        }))
        .unwrap();
        assert_eq!(modify.groups, ["sg-2"]);
        let rule = &modify.permissions[0];
        assert_eq!(
            (rule.direction, rule.what(), rule.rule_id.as_deref()),
            (Direction::Unknown, "tcp 3389".to_owned(), Some("sgr-9"))
        );
        let set = Event::from_source(&json!({
            "eventName": "AuthorizeSecurityGroupEgress",
            "responseElements": {"securityGroupRuleSet": {"items": [
                {"groupId": "sg-3", "isEgress": true, "ipProtocol": "udp", "fromPort": 53,
                 "toPort": 53, "cidrIpv4": "0.0.0.0/0"}]}}
        }))
        .unwrap();
        assert_eq!(set.groups, ["sg-3"]);
        assert_eq!(set.permissions[0].direction, Direction::Egress);
        let rds = Event::from_source(&json!({
            "eventName": "AuthorizeDBSecurityGroupIngress",
            "eventSource": "rds.amazonaws.com",
            "requestParameters": {"dBSecurityGroupName": "legacy-db", "cIDRIP": "0.0.0.0/0"},
            "errorCode": "InvalidParameterValue"
        }))
        .unwrap();
        assert_eq!(rds.groups, ["legacy-db"]);
        assert!(rds.permissions[0].peers[0].is_world());
        assert!(rds.failed());
    }

    #[test]
    fn principals_read_as_people_say_them() {
        let p = |doc: Value| Event::from_source(&doc).unwrap().principal;
        let role = p(
            json!({"eventName": "X", "userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/terraform/ci-42"}}),
        );
        assert_eq!(role.short(), "role terraform");
        let root = p(json!({"eventName": "X", "userIdentity": {"type": "Root",
            "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012"}}));
        assert_eq!(root.short(), "root");
        let service = p(
            json!({"eventName": "X", "userIdentity": {"type": "AWSService",
            "invokedBy": "autoscaling.amazonaws.com"}}),
        );
        assert_eq!(service.identity(), "AWSService autoscaling.amazonaws.com");
    }

    #[test]
    fn writes_and_their_targets() {
        let stop = Event::from_source(&json!({
            "eventName": "StopInstances", "readOnly": false,
            "requestParameters": {"instancesSet": {"items": [
                {"instanceId": "i-0aaa"}, {"instanceId": "i-0bbb"}]}},
            "resources": [{"ARN": "arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaa",
                           "type": "AWS::EC2::Instance"}]
        }))
        .unwrap();
        assert!(!stop.is_read_only());
        assert_eq!(
            stop.targets(),
            [
                "arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaa",
                "i-0aaa",
                "i-0bbb"
            ]
        );
        let run = Event::from_source(&json!({
            "eventName": "RunInstances", "readOnly": "false",
            "responseElements.instancesSet.items": [{"instanceId": "i-0ccc"}]
        }))
        .unwrap();
        assert_eq!(run.targets(), ["i-0ccc"]);
        let bucket = Event::from_source(&json!({
            "eventName": "PutBucketPolicy",
            "requestParameters": {"bucketName": "logs"},
            "resources": [{"ARN": "arn:aws:s3:::logs"}]
        }))
        .unwrap();
        assert_eq!(bucket.targets(), ["arn:aws:s3:::logs", "logs"]);
        let sg = Event::from_source(&world_ssh()).unwrap();
        assert_eq!(sg.targets(), ["sg-0a1b2c3d4e5f67890"]);
        assert!(!sg.is_read_only(), "no readOnly: judged by its name");
    }

    #[test]
    fn reads_by_the_field_else_by_the_name() {
        let read = |doc: Value| Event::from_source(&doc).unwrap().is_read_only();
        assert!(read(json!({"eventName": "DescribeInstances"})));
        assert!(read(json!({"eventName": "GetObject"})));
        assert!(
            !read(json!({"eventName": "Getaway"})),
            "a word, not a prefix"
        );
        assert!(read(
            json!({"eventName": "StopInstances", "readOnly": true})
        ));
        assert!(!read(
            json!({"eventName": "ListThings", "readOnly": "false"})
        ));
        assert!(!read(json!({"eventName": "ConsoleLogin"})));
    }

    #[test]
    fn what_is_not_an_event_says_why() {
        assert_eq!(Event::parse(b"[1]"), Err(EventError::NotAnObject));
        assert_eq!(Event::parse(b"{}"), Err(EventError::NoEventName));
        assert!(matches!(Event::parse(b"{"), Err(EventError::NotJson(_))));
    }

    #[test]
    fn only_a_zero_prefix_is_the_world() {
        for (cidr, world) in [
            ("0.0.0.0/0", true),
            ("::/0", true),
            (" 0.0.0.0/0 ", true),
            ("0.0.0.0/1", false),
            ("10.0.0.0/8", false),
            ("0.0.0.0", false),
            ("world/0", false),
        ] {
            assert_eq!(Peer::Cidr(cidr.into()).is_world(), world, "{cidr}");
        }
    }

    proptest! {
        #[test]
        fn no_json_panics(doc in any::<Vec<u8>>()) {
            let _ = Event::parse(&doc);
        }

        #[test]
        fn any_shape_of_permissions_reads_without_panic(
            protocol in "[-a-z0-9]{0,4}",
            from in any::<i64>(),
            to in proptest::option::of(any::<i64>()),
            cidr in "[0-9a-f:./]{0,20}",
        ) {
            let doc = json!({"eventName": "AuthorizeSecurityGroupIngress",
                "requestParameters": {"ipPermissions": {"items": [
                    {"ipProtocol": protocol, "fromPort": from, "toPort": to,
                     "ipRanges": {"items": [{"cidrIp": cidr}]}}]}}});
            let event = Event::from_source(&doc).unwrap();
            prop_assert!(event.targets().iter().all(|t| !t.is_empty()));
            let permission = &event.permissions[0];
            let (low, high) = permission.ports.unwrap();
            prop_assert!(low <= high);
            prop_assert!(!permission.what().is_empty());
        }
    }
}
