//! `tls-policy`: the policy file's companion tool. `render` writes a policy
//! in a server stack's configuration language, `explain` shows every name
//! and property of one suite, `diff` shows what one policy allows that
//! another does not.
//!
//! It is a tool, not a monitoring plugin: exit 0 when it did what was
//! asked, 2 with one line on stderr when the arguments, the policy or the
//! render are wrong (clap's own usage errors are 2 as well).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum as _};

use crate::policy::{PROFILES, Policy, PolicyError, forward_secret};
use crate::render::{RenderError, Target};
use crate::suites::{self, Dialect, MinVersion, NameError, Suite, Version};

/// `tls-policy`'s arguments.
#[derive(Debug, Parser)]
#[command(
    name = "tls-policy",
    version,
    about = "One TLS policy, every stack: render it for a server, explain a suite, compare policies",
    after_help = "Examples:\n  tls-policy render --profile mozilla-intermediate --for nginx\n  tls-policy render --policy /etc/nightwatch/tls.toml --for java\n  tls-policy explain ECDHE-RSA-AES256-GCM-SHA384\n  tls-policy diff mozilla-intermediate /etc/nightwatch/tls.toml\n\nExit status: 0 done, 2 bad arguments, an unusable policy, or a render refused."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a ready-to-paste snippet of the policy for one server stack.
    ///
    /// A suite or group the stack cannot write is left out with a comment
    /// saying so; a render never allows more than the policy. When leaving
    /// something out would make the stack fall back to its own defaults,
    /// the render is refused with the reason.
    Render {
        #[command(flatten)]
        source: Source,
        /// The stack to write for.
        #[arg(long = "for", value_enum, value_name = "TARGET")]
        target: Target,
    },
    /// Print every name of one suite and its properties.
    ///
    /// NAME in any dialect: IANA/Java (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
    /// OpenSSL (ECDHE-RSA-AES256-GCM-SHA384), GnuTLS, an Erlang tuple or map,
    /// or a code point (0xC030); an OpenSSL cipher string explains every
    /// suite it expands to.
    Explain {
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Per protocol, what one policy allows that the other does not.
    Diff {
        /// A policy file or a profile name.
        #[arg(value_name = "A")]
        a: String,
        /// A policy file or a profile name.
        #[arg(value_name = "B")]
        b: String,
    },
}

/// Where the policy comes from.
#[derive(Debug, ClapArgs)]
#[group(required = true, multiple = false)]
pub struct Source {
    /// A policy file (TOML, see the README).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// A built-in profile: mozilla-intermediate or mozilla-modern.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(PROFILES))]
    pub profile: Option<String>,
}

/// Everything that makes `tls-policy` exit 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("\"{0}\" is neither a policy file nor a profile ({profiles})", profiles = PROFILES.join(", "))]
    NoSuchPolicy(String),
}

/// `tls-policy`'s `main`: parses the arguments, runs, prints.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not worth a message.
            let _ = stdout.write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tls-policy: {e}");
            ExitCode::from(2)
        }
    }
}

/// Parses `args` (the program name first) as the binary does; for tests.
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args)
}

/// What `cli` prints on stdout.
pub fn run(cli: &Cli) -> Result<String, CliError> {
    match &cli.command {
        Command::Render { source, target } => {
            let policy = match (&source.policy, &source.profile) {
                (Some(path), _) => Policy::load(path)?,
                (None, Some(name)) => profile(name)?,
                (None, None) => unreachable!("clap requires --policy or --profile"),
            };
            Ok(crate::render::render(&policy, *target)?)
        }
        Command::Explain { name } => explain(name),
        Command::Diff { a, b } => Ok(diff(&policy_named(a)?, &policy_named(b)?)),
    }
}

fn profile(name: &str) -> Result<Policy, CliError> {
    Policy::profile(name).ok_or_else(|| CliError::NoSuchPolicy(name.to_owned()))
}

/// A profile by its name, else a policy file by its path: a file named
/// like a profile needs `./` in front.
fn policy_named(spec: &str) -> Result<Policy, CliError> {
    if let Some(policy) = Policy::profile(spec) {
        return Ok(policy);
    }
    let path = Path::new(spec);
    if path.exists() {
        Ok(Policy::load(path)?)
    } else {
        Err(CliError::NoSuchPolicy(spec.to_owned()))
    }
}

/// `explain NAME`: every suite `name` stands for, with all its names and
/// properties.
pub fn explain(name: &str) -> Result<String, CliError> {
    let found = suites::resolve(name)?;
    let mut out = String::new();
    for (i, suite) in found.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&explain_suite(suite));
    }
    Ok(out)
}

fn explain_suite(suite: &Suite) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", suite.display_name());
    let _ = writeln!(
        out,
        "  code point:      0x{:02X},0x{:02X}",
        suite.code >> 8,
        suite.code & 0xFF
    );
    for dialect in Dialect::value_variants() {
        let name = suite
            .name_in(*dialect)
            .unwrap_or_else(|| "(none)".to_owned());
        let label = dialect
            .to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default();
        let _ = writeln!(out, "  {:<16} {name}", format!("{label}:"));
    }
    let _ = writeln!(out, "  key exchange:    {}", suite.kx);
    let _ = writeln!(out, "  authentication:  {}", suite.auth);
    let _ = writeln!(out, "  cipher:          {}", suite.enc);
    let _ = writeln!(out, "  MAC:             {}", suite.mac);
    let _ = writeln!(out, "  versions:        {}", versions(suite));
    let _ = writeln!(out, "  forward secrecy: {}", yes_no(forward_secret(suite)));
    let _ = writeln!(out, "  AEAD:            {}", yes_no(suite.mac == "AEAD"));
    let (can, cannot): (Vec<Target>, Vec<Target>) = Target::ALL
        .into_iter()
        .partition(|&t| crate::render::suite_name(suite, t).is_some());
    let list = |ts: &[Target]| {
        if ts.is_empty() {
            "none".to_owned()
        } else {
            ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
        }
    };
    let _ = writeln!(out, "  written for:     {}", list(&can));
    if !cannot.is_empty() {
        let _ = writeln!(out, "  left out for:    {}", list(&cannot));
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn versions(suite: &Suite) -> &'static str {
    match suite.min_version {
        MinVersion::Ssl3 => "SSL 3.0 to TLS 1.2",
        MinVersion::Tls12 => "TLS 1.2",
        MinVersion::Tls13 => "TLS 1.3",
    }
}

/// `diff A B`: per protocol, then groups and key sizes, what one allows
/// that the other does not.
#[must_use]
pub fn diff(a: &Policy, b: &Policy) -> String {
    let mut out = format!("A: {}\nB: {}\n", a.name, b.name);
    let mut same = true;
    for version in Version::ALL {
        let (in_a, in_b) = (a.allows_version(version), b.allows_version(version));
        match (in_a, in_b) {
            (false, false) => {}
            (true, false) | (false, true) => {
                same = false;
                let (only, list) = if in_a { ("A", a) } else { ("B", b) };
                let _ = writeln!(
                    out,
                    "{version}: only {only} allows it, with {}",
                    names(&list.suites_for(version))
                );
            }
            (true, true) => {
                let sa = a.suites_for(version);
                let sb = b.suites_for(version);
                let only_a: Vec<u16> = sa.iter().copied().filter(|c| !sb.contains(c)).collect();
                let only_b: Vec<u16> = sb.iter().copied().filter(|c| !sa.contains(c)).collect();
                if !only_a.is_empty() {
                    same = false;
                    let _ = writeln!(out, "{version}: only A allows {}", names(&only_a));
                }
                if !only_b.is_empty() {
                    same = false;
                    let _ = writeln!(out, "{version}: only B allows {}", names(&only_b));
                }
            }
        }
    }
    same &= diff_groups(&mut out, a, b);
    for (what, x, y) in [
        ("RSA keys", a.min_rsa_bits, b.min_rsa_bits),
        ("DH parameters", a.min_dh_bits, b.min_dh_bits),
        ("EC keys", a.min_ec_bits, b.min_ec_bits),
    ] {
        if x != y {
            same = false;
            let (smaller, larger) = if x < y { ("A", y) } else { ("B", x) };
            let _ = writeln!(
                out,
                "{what}: only {smaller} allows fewer than {larger} bits"
            );
        }
    }
    if a.forward_secrecy != b.forward_secrecy {
        same = false;
        let only = if a.forward_secrecy { "B" } else { "A" };
        let _ = writeln!(out, "forward secrecy: only {only} allows suites without it");
    }
    if same {
        out.push_str("the same protocols, suites, groups and key sizes\n");
    }
    out
}

/// Groups each allows and the other does not; an empty list allows any.
fn diff_groups(out: &mut String, a: &Policy, b: &Policy) -> bool {
    let known = |p: &Policy| -> Vec<u16> {
        if p.groups.is_empty() {
            suites::GROUPS.iter().map(|g| g.code).collect()
        } else {
            p.groups.clone()
        }
    };
    let (ga, gb) = (known(a), known(b));
    let mut same = true;
    for (label, this, other) in [("A", &ga, &gb), ("B", &gb, &ga)] {
        let only: Vec<String> = this
            .iter()
            .filter(|g| !other.contains(g))
            .map(|&g| suites::group_name(g))
            .collect();
        if !only.is_empty() {
            same = false;
            let _ = writeln!(out, "groups: only {label} allows {}", only.join(", "));
        }
    }
    same
}

fn names(codes: &[u16]) -> String {
    if codes.is_empty() {
        return "no suite".to_owned();
    }
    codes
        .iter()
        .map(|&c| {
            suites::by_code(c).map_or_else(|| format!("0x{c:04X}"), |s| s.short_name().to_owned())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(args: &[&str]) -> Result<String, CliError> {
        let cli = parse(std::iter::once("tls-policy").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        run(&cli)
    }

    #[test]
    fn render_needs_exactly_one_source() {
        assert!(parse(["tls-policy", "render", "--for", "nginx"]).is_err());
        assert!(
            parse([
                "tls-policy",
                "render",
                "--profile",
                "mozilla-modern",
                "--policy",
                "x.toml",
                "--for",
                "nginx"
            ])
            .is_err()
        );
        let e = parse([
            "tls-policy",
            "render",
            "--profile",
            "mozilla-old",
            "--for",
            "nginx",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("mozilla-intermediate"), "{e}");
        let e = parse([
            "tls-policy",
            "render",
            "--profile",
            "mozilla-modern",
            "--for",
            "iis",
        ])
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn a_missing_policy_file_is_named() {
        let e = out(&[
            "render",
            "--policy",
            "/nonexistent/tls.toml",
            "--for",
            "nginx",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/tls.toml"), "{e}");
        let e = out(&["diff", "mozilla-modern", "/nonexistent/b.toml"]).unwrap_err();
        assert!(
            e.to_string()
                .contains("neither a policy file nor a profile"),
            "{e}"
        );
    }

    #[test]
    fn explain_shows_names_and_properties() {
        let text = out(&["explain", "ECDHE-RSA-AES256-GCM-SHA384"]).unwrap();
        assert!(
            text.contains("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
            "{text}"
        );
        assert!(text.contains("0xC0,0x30"), "{text}");
        assert!(text.contains("forward secrecy: yes"), "{text}");
        assert!(text.contains("AEAD:            yes"), "{text}");
        let rsa = out(&["explain", "AES128-SHA"]).unwrap();
        assert!(rsa.contains("forward secrecy: no"), "{rsa}");
        assert!(rsa.contains("SSL 3.0 to TLS 1.2"), "{rsa}");
        assert!(out(&["explain", "NO-SUCH-SUITE"]).is_err());
    }

    #[test]
    fn diff_names_what_each_side_alone_allows() {
        let text = out(&["diff", "mozilla-intermediate", "mozilla-modern"]).unwrap();
        assert!(
            text.contains("TLS 1.2: only A allows it, with ECDHE-ECDSA-AES128-GCM-SHA256"),
            "{text}"
        );
        assert!(!text.contains("TLS 1.3"), "{text}");
        let same = out(&["diff", "mozilla-modern", "mozilla-modern"]).unwrap();
        assert!(
            same.ends_with("the same protocols, suites, groups and key sizes\n"),
            "{same}"
        );
    }
}
