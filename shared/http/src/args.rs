//! The HTTP options every HTTP plugin takes, flattened into its arguments:
//! `#[command(flatten)] http: HttpArgs<GraphiteSecrets>`. Each plugin names
//! its own environment variables, so `GRAPHITE_PASSWORD` and `ES_PASSWORD`
//! can live side by side in one Nagios environment.

use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::client::{Auth, HttpConfig};
use crate::secret::{Secret, SecretError};

/// The environment variables a plugin reads its secrets from.
pub trait SecretNames: Clone + Send + Sync + 'static {
    /// e.g. `GRAPHITE_PASSWORD`.
    const PASSWORD_ENV: &'static str;
    /// e.g. `GRAPHITE_TOKEN`.
    const TOKEN_ENV: &'static str;
}

/// `--user`, `--password`, `--password-file`, `--token-file`, `--ca-file`,
/// `--insecure`.
#[derive(Debug, Clone, Default)]
pub struct HttpArgs<S> {
    pub user: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
    names: PhantomData<S>,
}

impl<S: SecretNames> HttpArgs<S> {
    /// The client configuration these options describe; reads secret files
    /// and variables now, so a missing file is an argument error.
    pub fn config(&self, timeout: Duration, user_agent: &str) -> Result<HttpConfig, SecretError> {
        let mut config = HttpConfig::new(timeout, user_agent);
        config.ca_file.clone_from(&self.ca_file);
        config.insecure = self.insecure;
        let token = match &self.token_file {
            Some(path) => Some(Secret::from_file(path)?),
            None => Secret::from_env(S::TOKEN_ENV)?,
        };
        config.auth = if let Some(user) = &self.user {
            let password = Secret::resolve(
                self.password.as_deref(),
                self.password_file.as_deref(),
                S::PASSWORD_ENV,
            )?;
            Auth::Basic {
                user: user.clone(),
                password,
            }
        } else if let Some(token) = token {
            Auth::Bearer(token)
        } else {
            Auth::None
        };
        Ok(config)
    }
}

const USER: &str = "user";
const PASSWORD: &str = "password";
const PASSWORD_FILE: &str = "password_file";
const TOKEN_FILE: &str = "token_file";
const CA_FILE: &str = "ca_file";
const INSECURE: &str = "insecure";

impl<S: SecretNames> Args for HttpArgs<S> {
    fn augment_args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new(USER)
                .long("user")
                .value_name("USER")
                .help(format!(
                    "HTTP basic auth user; the password comes from --password-file or ${}",
                    S::PASSWORD_ENV
                )),
        )
        .arg(
            Arg::new(PASSWORD)
                .long("password")
                .value_name("PASSWORD")
                .requires(USER)
                .help(format!(
                    "Password on the command line, where ps shows it: prefer ${} or --password-file",
                    S::PASSWORD_ENV
                )),
        )
        .arg(
            Arg::new(PASSWORD_FILE)
                .long("password-file")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .requires(USER)
                .conflicts_with(PASSWORD)
                .help("Read the password from the first line of FILE"),
        )
        .arg(
            Arg::new(TOKEN_FILE)
                .long("token-file")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .conflicts_with(USER)
                .help(format!(
                    "Send 'Authorization: Bearer' with the token in FILE [or ${}]",
                    S::TOKEN_ENV
                )),
        )
        .arg(
            Arg::new(CA_FILE)
                .long("ca-file")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Trust only the CA certificates in this PEM file for https"),
        )
        .arg(
            Arg::new(INSECURE)
                .long("insecure")
                .action(ArgAction::SetTrue)
                .help("Do not verify the server's certificate (never the default)"),
        )
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<S: SecretNames> FromArgMatches for HttpArgs<S> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(HttpArgs {
            user: matches.get_one::<String>(USER).cloned(),
            password: matches.get_one::<String>(PASSWORD).cloned(),
            password_file: matches.get_one::<PathBuf>(PASSWORD_FILE).cloned(),
            token_file: matches.get_one::<PathBuf>(TOKEN_FILE).cloned(),
            ca_file: matches.get_one::<PathBuf>(CA_FILE).cloned(),
            insecure: matches.get_flag(INSECURE),
            names: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Clone)]
    struct TestSecrets;
    impl SecretNames for TestSecrets {
        const PASSWORD_ENV: &'static str = "NIGHTWATCH_TEST_UNSET_PASSWORD";
        const TOKEN_ENV: &'static str = "NIGHTWATCH_TEST_UNSET_TOKEN";
    }

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        http: HttpArgs<TestSecrets>,
    }

    #[test]
    fn basic_auth_from_a_password_file() {
        let dir = std::env::temp_dir().join(format!("nightwatch-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let cli = Cli::try_parse_from([
            "x",
            "--user",
            "admin",
            "--password-file",
            file.to_str().unwrap(),
        ])
        .unwrap();
        let config = cli.http.config(Duration::from_secs(1), "test").unwrap();
        assert_eq!(
            config.auth,
            Auth::Basic {
                user: "admin".into(),
                password: Some(Secret::new("s3cret"))
            }
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn help_names_the_environment_variables() {
        let help = Cli::command_for_help();
        assert!(help.contains("$NIGHTWATCH_TEST_UNSET_PASSWORD"), "{help}");
        assert!(help.contains("$NIGHTWATCH_TEST_UNSET_TOKEN"), "{help}");
        assert!(
            Cli::try_parse_from(["x", "--password", "p"]).is_err(),
            "--password needs --user"
        );
        let cli = Cli::try_parse_from(["x", "--insecure"]).unwrap();
        assert!(cli.http.insecure);
        assert_eq!(
            cli.http.config(Duration::from_secs(1), "t").unwrap().auth,
            Auth::None
        );
    }

    impl Cli {
        fn command_for_help() -> String {
            use clap::CommandFactory;
            Cli::command().render_help().to_string()
        }
    }
}
