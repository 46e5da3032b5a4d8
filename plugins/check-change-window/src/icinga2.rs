//! Downtime through the Icinga 2 REST API: what exists is looked up
//! first, and only what is missing is scheduled.
//!
//! One run asks for the hosts (to expand globs and leave out hosts Icinga
//! does not know), the services, and every downtime whose comment starts
//! with `change ` (the change id follows, see [`crate::schedule::key_for`]);
//! then it POSTs `/v1/actions/schedule-downtime` for each host or service
//! of a change that has none yet. A host's downtime without `--service`
//! carries `all_services`, so its services get theirs in the same call; a
//! service added to the host since an earlier run gets its own.
//!
//! The API user's password comes from `$ICINGA2_API_PASSWORD` or a file,
//! never the command line; TLS is verified against `--ca-file` (Icinga's
//! own CA, `/var/lib/icinga2/certs/ca.crt`) or the system roots.

use std::path::PathBuf;
use std::time::Duration;

use nightwatch_core::Blame;
use nightwatch_core::duration::parse_duration;
use nightwatch_http::{
    Auth, HttpClient, HttpConfig, Method, RequestError, Secret, SecretError, Url, parse_base_url,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::schedule::{Downtime, Known, key_for};

/// The variable the API user's password is read from.
pub const PASSWORD_ENV: &str = "ICINGA2_API_PASSWORD";

/// How `schedule --format icinga2` reaches Icinga 2.
#[derive(Debug, Clone, clap::Args)]
#[allow(clippy::doc_markdown, rustdoc::bare_urls)] // the field docs are --help text, not rustdoc
pub struct Icinga2Args {
    /// Icinga 2: send the requests to this API (such as
    /// https://icinga.example:5665) instead of printing them; existing
    /// downtime is looked up first
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub icinga2_url: Option<Url>,

    /// Icinga 2: the ApiUser; its password comes from --icinga2-password-file
    /// or $ICINGA2_API_PASSWORD
    #[arg(long, value_name = "USER", requires = "icinga2_url")]
    pub icinga2_user: Option<String>,

    /// Icinga 2: read the ApiUser's password from the first line of FILE
    #[arg(long, value_name = "FILE", requires = "icinga2_user")]
    pub icinga2_password_file: Option<PathBuf>,

    /// Icinga 2: trust only the CA certificates in this PEM file (Icinga's
    /// own CA: /var/lib/icinga2/certs/ca.crt)
    #[arg(long, value_name = "FILE", requires = "icinga2_url")]
    pub ca_file: Option<PathBuf>,

    /// Icinga 2: do not verify the API's certificate (never the default)
    #[arg(long, requires = "icinga2_url")]
    pub insecure: bool,

    /// Icinga 2: give up on a request after this long
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
}

fn parse_url(text: &str) -> Result<Url, String> {
    parse_base_url(text).map_err(|e| e.to_string())
}

/// What went wrong talking to Icinga 2.
#[derive(Debug, thiserror::Error)]
pub enum Icinga2Error {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Http(#[from] nightwatch_http::HttpError),
    #[error("{error}{hint}")]
    Request { error: RequestError, hint: String },
    #[error("Icinga 2 did not schedule downtime for {what}: {reason}")]
    Refused { what: String, reason: String },
}

impl Icinga2Error {
    /// Whose fault it is: a wrong URL, user, password or permission is the
    /// user's; Icinga 2 down or failing is the server's.
    #[must_use]
    pub fn blame(&self) -> Blame {
        match self {
            Icinga2Error::Usage(_) | Icinga2Error::Secret(_) => Blame::Usage,
            Icinga2Error::Http(error) => error.blame(Blame::Source),
            Icinga2Error::Request { error, .. } => error.blame(Blame::Source),
            Icinga2Error::Refused { .. } => Blame::Source,
        }
    }
}

fn request_error(error: RequestError) -> Icinga2Error {
    let hint = match error.status() {
        Some(401) => format!(
            ": check --icinga2-user and the password in ${PASSWORD_ENV} or --icinga2-password-file"
        ),
        Some(403) => {
            ": the ApiUser needs the permissions objects/query/* and actions/schedule-downtime"
                .into()
        }
        Some(404) => ": is --icinga2-url the API's base (https://host:5665)?".into(),
        _ => String::new(),
    };
    Icinga2Error::Request { error, hint }
}

/// A connection to one Icinga 2 API.
#[derive(Debug)]
pub struct Icinga2 {
    client: HttpClient,
    base: Url,
}

/// `{"results": [...]}`, the shape of every API answer.
#[derive(Debug, Deserialize)]
struct Results {
    results: Vec<Value>,
}

impl Icinga2 {
    /// A client for `args`' API, with the user and password it names.
    pub fn connect(args: &Icinga2Args, user_agent: &str) -> Result<Icinga2, Icinga2Error> {
        let Some(base) = args.icinga2_url.clone() else {
            return Err(Icinga2Error::Usage("no --icinga2-url given".into()));
        };
        let Some(user) = args.icinga2_user.clone() else {
            return Err(Icinga2Error::Usage(format!(
                "the Icinga 2 API needs a user: give --icinga2-user (its password in ${PASSWORD_ENV} or --icinga2-password-file)"
            )));
        };
        let password = Secret::resolve(None, args.icinga2_password_file.as_deref(), PASSWORD_ENV)?;
        if password.is_none() {
            return Err(Icinga2Error::Usage(format!(
                "no password for the Icinga 2 API user {user}: set ${PASSWORD_ENV} or give --icinga2-password-file"
            )));
        }
        let mut config = HttpConfig::new(args.timeout, user_agent);
        config.ca_file.clone_from(&args.ca_file);
        config.insecure = args.insecure;
        config.auth = Auth::Basic { user, password };
        let client = HttpClient::new(config, &base)?;
        Ok(Icinga2 { client, base })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/{path}"));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
            // Icinga 2 reads `+` as itself, not as a space: spaces go as
            // %20 (a `+` of the text is already %2B).
            let query = url.query().map(|q| q.replace('+', "%20"));
            url.set_query(query.as_deref());
        }
        url
    }

    fn objects(
        &self,
        kind: &str,
        filter: Option<&str>,
        attrs: &[&str],
    ) -> Result<Vec<Value>, Icinga2Error> {
        let mut query: Vec<(&str, &str)> = attrs.iter().map(|a| ("attrs", *a)).collect();
        if let Some(filter) = filter {
            query.push(("filter", filter));
        }
        let url = self.url(&format!("v1/objects/{kind}"), &query);
        let reply = self
            .client
            .request_json::<Results>(Method::GET, &url, None)
            .map_err(request_error)?;
        Ok(reply
            .body
            .results
            .into_iter()
            .map(|r| r.get("attrs").cloned().unwrap_or(Value::Null))
            .collect())
    }

    /// The hosts, services and change downtime Icinga 2 has now.
    pub fn known(&self) -> Result<Known, Icinga2Error> {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut known = Known::default();
        for host in self.objects("hosts", None, &["name"])? {
            known.hosts.extend(text(&host, "name"));
        }
        for service in self.objects("services", None, &["name", "host_name"])? {
            if let (Some(host), Some(name)) = (text(&service, "host_name"), text(&service, "name"))
            {
                known.services.push((host, name));
            }
        }
        // `change *`: every change's downtime in one request.
        let filter = format!(
            "match({}, downtime.comment)",
            filter_string(&format!("{}*", key_for("")))
        );
        for downtime in self.objects(
            "downtimes",
            Some(&filter),
            &["host_name", "service_name", "comment"],
        )? {
            if let (Some(host), Some(comment)) =
                (text(&downtime, "host_name"), text(&downtime, "comment"))
            {
                let service = text(&downtime, "service_name").filter(|s| !s.is_empty());
                known.downtime.push((host, service, comment));
            }
        }
        Ok(known)
    }

    /// POSTs one schedule-downtime request; returns how many service
    /// downtimes `all_services` added with it.
    pub fn schedule(&self, request: &Value, what: &str) -> Result<usize, Icinga2Error> {
        let url = self.url("v1/actions/schedule-downtime", &[]);
        let reply = self
            .client
            .request_json::<Results>(Method::POST, &url, Some(&request["body"]))
            .map_err(request_error)?;
        let Some(result) = reply.body.results.first() else {
            return Err(Icinga2Error::Refused {
                what: what.to_owned(),
                reason: "the answer holds no result".into(),
            });
        };
        let code = result.get("code").and_then(Value::as_f64).unwrap_or(0.0);
        if !(200.0..300.0).contains(&code) {
            return Err(Icinga2Error::Refused {
                what: what.to_owned(),
                reason: result
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given")
                    .to_owned(),
            });
        }
        Ok(result
            .get("service_downtimes")
            .and_then(Value::as_array)
            .map_or(0, Vec::len))
    }
}

/// An Icinga 2 API request: `POST /v1/actions/schedule-downtime`, with
/// `all_services` for a host when asked.
#[must_use]
pub fn request(downtime: &Downtime, author: &str, all_services: bool) -> Value {
    let host = filter_string(&downtime.host);
    let (kind, filter) = match &downtime.service {
        Some(service) => (
            "Service",
            format!(
                "host.name=={host} && service.name=={}",
                filter_string(service)
            ),
        ),
        None => ("Host", format!("host.name=={host}")),
    };
    let mut body = json!({
        "type": kind,
        "filter": filter,
        "start_time": downtime.start.as_second(),
        "end_time": downtime.end.as_second(),
        "fixed": true,
        "author": author,
        "comment": downtime.comment,
    });
    if downtime.service.is_none() && all_services {
        body["all_services"] = json!(true);
    }
    json!({
        "method": "POST",
        "path": "/v1/actions/schedule-downtime",
        "body": body,
    })
}

/// A string literal in Icinga's filter language.
fn filter_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// What to do for one downtime, given what Icinga 2 has.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this request.
    Send(Value),
    /// Nothing to send, and why.
    Skip(String),
}

/// One step for one change's host or service (`web01`, `web01/https`).
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub change_id: String,
    pub what: String,
    pub step: Step,
}

/// Decides each downtime against what Icinga 2 has. `services` are the
/// `--service` names: without them a host's downtime takes all its
/// services along, and each of its services that lacks the change's
/// downtime (one added since) gets its own.
#[must_use]
pub fn steps(
    downtime: &[Downtime],
    known: &Known,
    services: &[String],
    author: &str,
) -> Vec<Action> {
    let mut out = Vec::new();
    for item in downtime {
        let mut push = |what: String, step: Step| {
            out.push(Action {
                change_id: item.change_id.clone(),
                what,
                step,
            });
        };
        let what = match &item.service {
            Some(service) => format!("{}/{service}", item.host),
            None => item.host.clone(),
        };
        let id = &item.change_id;
        if !known.hosts.iter().any(|h| h == &item.host) {
            push(
                what,
                Step::Skip(format!(
                    "{id}: {} left out, Icinga 2 has no such host",
                    item.host
                )),
            );
            continue;
        }
        if let Some(service) = &item.service
            && !known.knows(&item.host, service)
        {
            push(
                what.clone(),
                Step::Skip(format!(
                    "{id}: {what} left out, Icinga 2 has no such service"
                )),
            );
            continue;
        }
        if known.has(item) {
            push(
                what.clone(),
                Step::Skip(format!("{id}: {what} already in downtime")),
            );
            if item.service.is_none() && services.is_empty() {
                // A service added since the host's downtime was set.
                for (host, service) in known.services.iter().filter(|(h, _)| h == &item.host) {
                    let one = Downtime {
                        service: Some(service.clone()),
                        ..item.clone()
                    };
                    if !known.has(&one) {
                        push(
                            format!("{host}/{service}"),
                            Step::Send(request(&one, author, false)),
                        );
                    }
                }
            }
            continue;
        }
        push(what, Step::Send(request(item, author, services.is_empty())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn downtime(host: &str, service: Option<&str>) -> Downtime {
        Downtime {
            change_id: "CMB-7".into(),
            host: host.into(),
            service: service.map(str::to_owned),
            start: "2026-12-02T13:00:00Z".parse().unwrap(),
            end: "2026-12-02T14:00:00Z".parse().unwrap(),
            comment: "change CMB-7: Renew \"the\" certificate".into(),
        }
    }

    fn known() -> Known {
        Known {
            hosts: vec!["web01".into(), "web02".into()],
            services: vec![
                ("web01".into(), "https".into()),
                ("web01".into(), "ssh".into()),
                ("web02".into(), "https".into()),
            ],
            downtime: vec![
                ("web02".into(), None, "change CMB-7: old summary".into()),
                (
                    "web02".into(),
                    Some("https".into()),
                    "change CMB-7: old summary".into(),
                ),
                ("web01".into(), None, "change CMB-70: another change".into()),
            ],
        }
    }

    #[test]
    fn only_what_is_missing_is_sent() {
        let plan = [
            downtime("web01", None),
            downtime("web02", None),
            downtime("web03", None),
        ];
        let steps = steps(&plan, &known(), &[], "cw");
        let shown: Vec<String> = steps
            .iter()
            .map(|action| match &action.step {
                Step::Send(request) => format!("send {} {}", action.what, request["body"]["type"]),
                Step::Skip(note) => note.clone(),
            })
            .collect();
        assert_eq!(
            shown,
            [
                // CMB-70's downtime is not CMB-7's: the key ends at the colon.
                "send web01 \"Host\"",
                "CMB-7: web02 already in downtime",
                "CMB-7: web03 left out, Icinga 2 has no such host",
            ]
        );
        let Step::Send(first) = &steps[0].step else {
            unreachable!()
        };
        assert_eq!(first["body"]["all_services"], json!(true));
        assert_eq!(first["body"]["filter"], json!("host.name==\"web01\""));
    }

    #[test]
    fn a_service_added_since_gets_its_own_and_named_services_stand_alone() {
        let mut known = known();
        known.services.push(("web02".into(), "imap".into()));
        let steps_all = steps(&[downtime("web02", None)], &known, &[], "cw");
        assert_eq!(steps_all.len(), 2, "{steps_all:?}");
        let Step::Send(imap) = &steps_all[1].step else {
            unreachable!()
        };
        assert_eq!(
            imap["body"]["filter"],
            json!("host.name==\"web02\" && service.name==\"imap\"")
        );
        assert_eq!(imap["body"].get("all_services"), None);

        let named = steps(
            &[
                downtime("web01", Some("https")),
                downtime("web01", Some("smtp")),
                downtime("web01", None),
            ],
            &known,
            &["https".into(), "smtp".into()],
            "cw",
        );
        let Step::Send(host) = &named[2].step else {
            unreachable!()
        };
        assert_eq!(
            host["body"].get("all_services"),
            None,
            "--service: only those"
        );
        assert_eq!(
            named[1].step,
            Step::Skip("CMB-7: web01/smtp left out, Icinga 2 has no such service".into())
        );
    }

    #[test]
    fn filters_reach_icinga_with_their_spaces() {
        let args = <crate::args::ToolArgs as clap::Parser>::parse_from([
            "x",
            "schedule",
            "--changes",
            "/c",
            "--icinga2-url",
            "https://icinga:5665/",
        ]);
        let crate::args::Tool::Schedule(args) = args.tool else {
            unreachable!()
        };
        let api = Icinga2 {
            client: HttpClient::new(
                HttpConfig::new(Duration::from_secs(1), "t"),
                args.icinga2.icinga2_url.as_ref().unwrap(),
            )
            .unwrap(),
            base: args.icinga2.icinga2_url.clone().unwrap(),
        };
        let url = api.url(
            "v1/objects/downtimes",
            &[("filter", "match(\"change *\", a+b)")],
        );
        assert_eq!(
            url.as_str(),
            "https://icinga:5665/v1/objects/downtimes?filter=match%28%22change%20*%22%2C%20a%2Bb%29"
        );
    }

    #[test]
    fn filter_strings_escape_quotes_and_backslashes() {
        assert_eq!(filter_string(r#"a"b\c"#), r#""a\"b\\c""#);
        let request = request(&downtime("web01", None), "cw", true);
        assert_eq!(
            request["body"]["comment"],
            json!("change CMB-7: Renew \"the\" certificate")
        );
        assert_eq!(request["path"], json!("/v1/actions/schedule-downtime"));
    }

    #[test]
    fn credentials_and_permissions_are_the_users_to_fix() {
        let unauthorized = request_error(RequestError::Status(nightwatch_http::StatusError {
            url: "https://icinga:5665/v1/objects/hosts".into(),
            status: 401,
            kind: None,
            message: "Unauthorized".into(),
        }));
        assert_eq!(unauthorized.blame(), Blame::Usage);
        assert!(
            unauthorized.to_string().contains(PASSWORD_ENV),
            "{unauthorized}"
        );
        let refused = Icinga2Error::Http(nightwatch_http::HttpError::Connect {
            url: "https://icinga:5665/".into(),
            reason: "Connection refused".into(),
        });
        assert_eq!(refused.blame(), Blame::Source);
    }
}
