//! The enumeration: per protocol version, offer many suites, remove the one
//! the server chose, repeat until refused; TLS 1.3 suites and groups from
//! HelloRetryRequests; TLS 1.2 curves and the DHE group's size from
//! ServerKeyExchanges; who decides the order.

use std::collections::VecDeque;

use serde::Serialize;

use crate::probe::{ConnectError, Outcome, Prober};
use crate::suites::{self, GROUPS, Version};
use crate::wire::{Hello, Reply, alert_name};

/// At most this many suites in one hello (servers and middleboxes choke on
/// more).
pub const MAX_SUITES: usize = 128;
const PROTOCOL_VERSION_ALERT: u8 = 70;
/// Alerts that may mean "your hello is too big for me", not "no suite".
const CHOKE_ALERTS: [u8; 2] = [47, 50];
/// Chunks shorter than this are not split further.
const MIN_SPLIT: usize = 32;

/// What one protocol version accepted, in the order the server chose them.
#[derive(Debug, Clone, Serialize)]
pub struct VersionScan {
    pub version: Version,
    #[serde(serialize_with = "suite_objects")]
    pub suites: Vec<u16>,
}

/// Suites for machines: code point with the IANA and OpenSSL names.
fn suite_objects<S: serde::Serializer>(codes: &[u16], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq as _;
    let mut seq = serializer.serialize_seq(Some(codes.len()))?;
    for &code in codes {
        let known = suites::by_code(code);
        seq.serialize_element(&serde_json::json!({
            "code": format!("0x{code:04X}"),
            "iana": known.map_or("", |s| s.iana),
            "openssl": known.map_or("", |s| s.openssl),
        }))?;
    }
    seq.end()
}

/// Groups for machines: their IANA names (`0x…` when unknown).
fn group_names<S: serde::Serializer>(codes: &[u16], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(codes.iter().map(|&g| suites::group_name(g)))
}

/// Who decides which suite is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Server,
    Client,
}

/// Everything the hellos found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scan {
    /// Accepting versions, newest first.
    pub versions: Vec<VersionScan>,
    /// TLS 1.3 groups in the server's preference order.
    #[serde(serialize_with = "group_names")]
    pub tls13_groups: Vec<u16>,
    /// TLS ≤ 1.2 ECDHE curves.
    #[serde(serialize_with = "group_names")]
    pub tls12_groups: Vec<u16>,
    pub order: Option<Order>,
    /// The size of the DHE group (its prime) of the newest TLS ≤ 1.2
    /// version that accepts a DHE suite, in bits.
    pub dh_bits: Option<u32>,
    /// Something other than TLS answered (the first such reply).
    pub not_tls: Option<String>,
    /// How probes ended when they did not end in a refusal alert, for -v.
    pub notes: Vec<String>,
}

impl Scan {
    #[must_use]
    pub fn suites_for(&self, version: Version) -> &[u16] {
        self.versions
            .iter()
            .find(|v| v.version == version)
            .map_or(&[], |v| v.suites.as_slice())
    }

    #[must_use]
    pub fn accepts(&self, version: Version) -> bool {
        !self.suites_for(version).is_empty()
    }
}

/// One offered list and the server's pick from it.
type Pick = (Vec<u16>, u16);

/// How enumerating one version ended.
struct Enumerated {
    accepted: Vec<u16>,
    picks: Vec<Pick>,
    /// The first reply named a group (TLS 1.3) or curve (TLS 1.2).
    first_group: Option<u16>,
    /// The server refused the version outright (protocol_version alert).
    version_refused: bool,
    /// The server answered with this lower version and suite instead.
    downgraded: Option<(Version, u16)>,
}

/// Runs every probe but the certificate's.
/// The findings of one half of the scan: TLS 1.3, or TLS 1.2 and older.
#[derive(Default)]
struct Part {
    scan: Scan,
    picks: Vec<(Version, Vec<Pick>)>,
}

/// Runs every probe but the certificate's. With `parallel`, TLS 1.3 and
/// the older versions are probed at the same time on two connections
/// (`--max-parallel 2`); otherwise one connection at a time. Without
/// `every_group` (a policy that judges no groups) only the server's first
/// choice of group and curve is read, which the suite probes show anyway.
pub fn scan(prober: &mut Prober, parallel: bool, every_group: bool) -> Result<Scan, ConnectError> {
    let (modern, legacy) = if parallel {
        let mut second = prober.fork();
        let (modern, legacy) = std::thread::scope(|scope| {
            let legacy = scope.spawn(|| scan_legacy(&mut second, every_group));
            let modern = scan_tls13(prober, every_group);
            (modern, legacy.join())
        });
        prober.absorb(&second);
        let legacy = legacy.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (modern?, legacy?)
    } else {
        (
            scan_tls13(prober, every_group)?,
            scan_legacy(prober, every_group)?,
        )
    };
    let mut scan = modern.scan;
    scan.versions.extend(legacy.scan.versions);
    scan.tls12_groups = legacy.scan.tls12_groups;
    scan.dh_bits = legacy.scan.dh_bits;
    scan.notes.extend(legacy.scan.notes);
    scan.not_tls = scan.not_tls.or(legacy.scan.not_tls);
    let mut picks = modern.picks;
    picks.extend(legacy.picks);
    scan.order = decide_order(prober, &mut scan, &picks)?;
    Ok(scan)
}

/// TLS 1.3 suites (the first HelloRetryRequest also names a group), then
/// its groups.
fn scan_tls13(prober: &mut Prober, every_group: bool) -> Result<Part, ConnectError> {
    let mut part = Part::default();
    let all_groups: Vec<u16> = GROUPS.iter().map(|g| g.code).collect();
    let tls13 = enumerate(prober, &mut part.scan, Version::Tls13, &all_groups, None)?;
    if !tls13.accepted.is_empty() {
        part.scan.tls13_groups = if every_group {
            enumerate_groups(
                prober,
                &mut part.scan,
                Version::Tls13,
                &tls13.accepted,
                &all_groups,
                tls13.first_group,
            )?
        } else {
            tls13.first_group.into_iter().collect()
        };
        part.scan.versions.push(VersionScan {
            version: Version::Tls13,
            suites: tls13.accepted.clone(),
        });
        part.picks.push((Version::Tls13, tls13.picks));
    }
    Ok(part)
}

/// TLS 1.2 down to SSL 3.0, and the ECDHE curves of the newest of them. A
/// protocol_version alert to the first hello of a version means no older
/// one is enabled either (servers answer a hello with the newest version
/// they have at or below the client's); a lower ServerHello is that
/// version's first pick.
fn scan_legacy(prober: &mut Prober, every_group: bool) -> Result<Part, ConnectError> {
    let mut part = Part::default();
    let scan = &mut part.scan;
    let ec_groups: Vec<u16> = GROUPS
        .iter()
        .filter(|g| g.ec_tls12)
        .map(|g| g.code)
        .collect();
    let mut version = Some(Version::Tls12);
    let mut known: Option<u16> = None;
    while let Some(current) = version {
        let result = enumerate(prober, scan, current, &ec_groups, known.take())?;
        let next = older(current);
        if !result.accepted.is_empty() {
            if every_group && scan.tls12_groups.is_empty() {
                let ecdhe: Vec<u16> = result
                    .accepted
                    .iter()
                    .copied()
                    .filter(|&c| suites::by_code(c).is_some_and(suites::Suite::is_ecdhe))
                    .collect();
                if !ecdhe.is_empty() {
                    scan.tls12_groups = enumerate_groups(
                        prober,
                        scan,
                        current,
                        &ecdhe,
                        &ec_groups,
                        result.first_group,
                    )?;
                }
            }
            if scan.dh_bits.is_none() {
                scan.dh_bits = measure_dh(prober, scan, current, &result.accepted)?;
            }
            scan.versions.push(VersionScan {
                version: current,
                suites: result.accepted.clone(),
            });
            part.picks.push((current, result.picks));
        }
        version = match result.downgraded {
            Some((lower, suite)) if lower < current => {
                known = Some(suite);
                Some(lower)
            }
            _ if result.version_refused && result.accepted.is_empty() => None,
            _ => next,
        };
    }
    Ok(part)
}

/// The DHE group's size: one hello offering only the accepted DHE suites
/// and no `supported_groups`, so the server sends the group it is set up
/// with (RFC 7919's named groups need the client to ask for them); only
/// for servers that accept DHE at all, so one connection more at most.
fn measure_dh(
    prober: &mut Prober,
    scan: &mut Scan,
    version: Version,
    accepted: &[u16],
) -> Result<Option<u32>, ConnectError> {
    let dhe: Vec<u16> = accepted
        .iter()
        .copied()
        .filter(|&c| suites::by_code(c).is_some_and(|s| matches!(s.kx, "DHE" | "DHE_EXPORT")))
        .collect();
    if dhe.is_empty() {
        return Ok(None);
    }
    let sni = prober.sni.clone();
    let hello = Hello {
        version,
        suites: &dhe,
        groups: &[],
        sni: sni.as_deref(),
    };
    Ok(match prober.probe(&hello, true)? {
        Outcome::Answer(Reply::Hello { hello, dh_bits, .. }) => {
            log::debug!(
                "{version}: DHE with {}: {}",
                suites::name_of(hello.suite),
                dh_bits.map_or_else(|| "no group read".to_owned(), |b| format!("{b} bits"))
            );
            dh_bits
        }
        Outcome::Answer(Reply::Alert { description, .. }) => {
            log::debug!("{version}: DHE refused with {}", alert_name(description));
            None
        }
        other => {
            note_outcome(scan, version, &other);
            None
        }
    })
}

fn older(version: Version) -> Option<Version> {
    match version {
        Version::Tls13 => Some(Version::Tls12),
        Version::Tls12 => Some(Version::Tls11),
        Version::Tls11 => Some(Version::Tls10),
        Version::Tls10 => Some(Version::Ssl3),
        Version::Ssl3 => None,
    }
}

/// Offer, remove the chosen suite, repeat; at most [`MAX_SUITES`] per
/// hello, each chunk until refused. Every other probe offers the list
/// reversed, so a client-decided order shows in the picks themselves.
fn enumerate(
    prober: &mut Prober,
    scan: &mut Scan,
    version: Version,
    groups: &[u16],
    known: Option<u16>,
) -> Result<Enumerated, ConnectError> {
    let sni = prober.sni.clone();
    let list = suites::scan_order(version);
    let mut out = Enumerated {
        accepted: Vec::new(),
        picks: Vec::new(),
        first_group: None,
        version_refused: false,
        downgraded: None,
    };
    if let Some(suite) = known {
        out.accepted.push(suite);
    }
    let mut sent = 0usize;
    // Chunks still to walk, and whether one may still be split in halves.
    let mut queue: VecDeque<(Vec<u16>, bool)> = list
        .chunks(MAX_SUITES)
        .map(|c| (c.to_vec(), true))
        .collect();
    while let Some((chunk, may_split)) = queue.pop_front() {
        let mut remaining: Vec<u16> = chunk
            .iter()
            .copied()
            .filter(|c| !out.accepted.contains(c))
            .collect();
        let mut picked_here = false;
        while !remaining.is_empty() {
            let mut offered = remaining.clone();
            if sent % 2 == 1 {
                offered.reverse();
            }
            sent += 1;
            let hello = Hello {
                version,
                suites: &offered,
                groups,
                sni: sni.as_deref(),
            };
            let outcome = prober.probe(&hello, false)?;
            match outcome {
                Outcome::Answer(Reply::Hello { hello, .. }) => {
                    let answered = Version::from_wire(hello.version);
                    if answered != Some(version) {
                        if out.accepted.is_empty() {
                            out.version_refused = true;
                            if let Some(lower) = answered.filter(|&v| v < version)
                                && offered.contains(&hello.suite)
                            {
                                out.downgraded = Some((lower, hello.suite));
                            }
                        }
                        return Ok(out);
                    }
                    if !offered.contains(&hello.suite) {
                        scan.notes.push(format!(
                            "{version}: the server chose {}, which was not offered",
                            suites::name_of(hello.suite)
                        ));
                        break;
                    }
                    if out.first_group.is_none() {
                        out.first_group = hello.group;
                    }
                    out.accepted.push(hello.suite);
                    out.picks.push((offered, hello.suite));
                    picked_here = true;
                    remaining.retain(|&c| c != hello.suite);
                }
                Outcome::Answer(Reply::Alert { description, .. }) => {
                    if description == PROTOCOL_VERSION_ALERT && out.accepted.is_empty() {
                        out.version_refused = true;
                        return Ok(out);
                    }
                    log::debug!("{version}: refused with {}", alert_name(description));
                    if may_split && !picked_here && CHOKE_ALERTS.contains(&description) {
                        split(&mut queue, &remaining);
                    }
                    break;
                }
                other => {
                    note_outcome(scan, version, &other);
                    if may_split && !picked_here && other == Outcome::Closed {
                        split(&mut queue, &remaining);
                    }
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// Some servers and middleboxes choke on a big hello rather than refuse
/// it (a reset, `decode_error`, `illegal_parameter`): the chunk is tried
/// again as two halves, once, before "no more here" is believed.
fn split(queue: &mut VecDeque<(Vec<u16>, bool)>, remaining: &[u16]) {
    if remaining.len() >= MIN_SPLIT {
        let half = remaining.len().div_ceil(2);
        for part in remaining.chunks(half).rev() {
            queue.push_front((part.to_vec(), false));
        }
    }
}

fn note_outcome(scan: &mut Scan, version: Version, outcome: &Outcome) {
    let text = match outcome {
        Outcome::Closed => "the server closed the connection".to_owned(),
        Outcome::Silent => "the server did not answer in time".to_owned(),
        Outcome::Garbage(error) => {
            if scan.not_tls.is_none() {
                scan.not_tls = Some(error.to_string());
            }
            format!("the server answered with {error}")
        }
        Outcome::Answer(_) => return,
    };
    log::debug!("{version}: {text}");
    scan.notes.push(format!("{version}: {text}"));
}

/// Groups by removal: each hello offers the suites known to work and the
/// groups not yet chosen. TLS 1.3 reads the HelloRetryRequest's group,
/// older versions the ServerKeyExchange's curve.
fn enumerate_groups(
    prober: &mut Prober,
    scan: &mut Scan,
    version: Version,
    accepted_suites: &[u16],
    groups: &[u16],
    known: Option<u16>,
) -> Result<Vec<u16>, ConnectError> {
    let sni = prober.sni.clone();
    let mut found: Vec<u16> = known.into_iter().collect();
    let want_curve = version != Version::Tls13;
    loop {
        let remaining: Vec<u16> = groups
            .iter()
            .copied()
            .filter(|g| !found.contains(g))
            .collect();
        if remaining.is_empty() {
            break;
        }
        let hello = Hello {
            version,
            suites: accepted_suites,
            groups: &remaining,
            sni: sni.as_deref(),
        };
        match prober.probe(&hello, want_curve)? {
            Outcome::Answer(Reply::Hello { hello, curve, .. }) => {
                let group = if want_curve { curve } else { hello.group };
                match group {
                    Some(group) if remaining.contains(&group) => found.push(group),
                    // A non-ECDHE suite or a group not offered: no more.
                    _ => break,
                }
            }
            Outcome::Answer(Reply::Alert { .. }) => break,
            other => {
                note_outcome(scan, version, &other);
                break;
            }
        }
    }
    Ok(found)
}

/// Whether the picks prove the server decides: under client order each pick
/// is the first offered suite the server accepts at all.
fn client_order_explains(picks: &[Pick], accepted: &[u16]) -> bool {
    picks
        .iter()
        .all(|(offered, pick)| offered.iter().find(|c| accepted.contains(c)) == Some(pick))
}

/// Server or client order, from the picks when they prove it, else with
/// one hello offering the server's apparent favourite second.
fn decide_order(
    prober: &mut Prober,
    scan: &mut Scan,
    picks_by_version: &[(Version, Vec<Pick>)],
) -> Result<Option<Order>, ConnectError> {
    let Some((version, picks)) = picks_by_version.iter().find(|(_, picks)| picks.len() >= 2) else {
        return Ok(None);
    };
    let accepted: Vec<u16> = picks.iter().map(|(_, pick)| *pick).collect();
    if !client_order_explains(picks, &accepted) {
        return Ok(Some(Order::Server));
    }
    let (first, second) = (accepted[0], accepted[1]);
    let sni = prober.sni.clone();
    let groups: Vec<u16> = GROUPS
        .iter()
        .filter(|g| *version == Version::Tls13 || g.ec_tls12)
        .map(|g| g.code)
        .collect();
    let hello = Hello {
        version: *version,
        suites: &[second, first],
        groups: &groups,
        sni: sni.as_deref(),
    };
    Ok(match prober.probe(&hello, false)? {
        Outcome::Answer(Reply::Hello { hello, .. }) if hello.suite == first => Some(Order::Server),
        Outcome::Answer(Reply::Hello { hello, .. }) if hello.suite == second => Some(Order::Client),
        other => {
            note_outcome(scan, *version, &other);
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choked_chunk_is_retried_as_two_halves_first() {
        let mut queue = VecDeque::from([(vec![9], true)]);
        let remaining: Vec<u16> = (0..100).collect();
        split(&mut queue, &remaining);
        let sizes: Vec<(usize, bool)> = queue.iter().map(|(c, s)| (c.len(), *s)).collect();
        assert_eq!(sizes, [(50, false), (50, false), (1, true)]);
        assert_eq!(queue[0].0[0], 0);
        let mut small = VecDeque::new();
        split(&mut small, &remaining[..10]);
        assert!(small.is_empty());
    }

    #[test]
    fn client_order_is_the_first_accepted_of_each_offer() {
        let accepted = [2, 4];
        let picks = vec![(vec![1, 2, 3, 4], 2), (vec![4, 3, 1], 4)];
        assert!(client_order_explains(&picks, &accepted));
        let server = vec![(vec![1, 2, 3, 4], 4), (vec![3, 2, 1], 2)];
        assert!(!client_order_explains(&server, &accepted));
    }
}
