//! Command-line options, parsed straight into domain values.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use nightwatch_core::duration::parse_duration;
use nightwatch_core::{CommonArgs, PluginArgs};

use crate::suites::Dialect;
use crate::verdict::Profile;

#[derive(Debug, Parser)]
#[command(
    name = "check-tls-ciphers",
    version,
    max_term_width = 80,
    about = "List every protocol, cipher suite and group a TLS server accepts and judge them against a policy file or Mozilla's profiles",
    after_help = "Examples:\n  \
        check-tls-ciphers -H www.example.org -w 30d -c 14d     (Mozilla intermediate)\n  \
        check-tls-ciphers -H www.example.org --policy story.toml --names openssl"
)]
pub struct Args {
    /// Host name or IP address of the server
    #[arg(short = 'H', long, value_name = "HOST")]
    pub host: String,

    /// TCP port [default: 443; with --starttls the protocol's: smtp 25,
    /// imap 143, pop3 110, ftp 21, postgres 5432, ldap 389]
    #[arg(short = 'p', long, default_value_t = 443, hide_default_value = true,
          default_value_ifs = crate::starttls::Protocol::ALL.map(|p| ("starttls", p.arg(), Some(p.default_port_text()))))]
    pub port: u16,

    /// Speak this protocol's plaintext preamble first and upgrade to TLS
    /// (SSLRequest for postgres, the StartTLS operation for ldap)
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    pub starttls: Option<crate::starttls::Protocol>,

    /// Server name sent in SNI [default: the host, none for an IP address]
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,

    /// The profile to judge against (when no --policy)
    #[arg(long, value_enum, default_value_t = Profile::MozillaIntermediate)]
    pub profile: Profile,

    /// The policy file (TOML) to judge against instead of a profile
    #[arg(long, value_name = "FILE", conflicts_with = "profile")]
    pub policy: Option<PathBuf>,

    /// Warning when the certificate expires within this long [default: the
    /// policy's expiry_warning, 30d for the profiles]
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_duration)]
    pub warning: Option<Duration>,

    /// Critical when the certificate expires within this long [default: the
    /// policy's expiry_critical, 14d for the profiles]
    #[arg(short = 'c', long, value_name = "DURATION", value_parser = parse_duration)]
    pub critical: Option<Duration>,

    /// Trust anchors (PEM) for the chain [default: the policy's ca_file, else
    /// the system's roots]
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// How suites are spelt in the output [default: IANA's with OpenSSL's in
    /// brackets]
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub names: Option<Dialect>,

    /// Pause between connections, for servers that rate-limit
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub delay: Duration,

    /// Connections at once: 1 probes one after another; 2 probes TLS 1.3
    /// and the older versions side by side
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub max_parallel: u8,

    /// Print the whole scan as JSON instead of the plugin output
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl PluginArgs for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}
