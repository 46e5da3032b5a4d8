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
    /// e.g. `ES_API_KEY`: when set, the plugin also takes `--api-key-file`
    /// and sends `Authorization: ApiKey <key>` (Elasticsearch's API keys;
    /// the key is the `encoded` value the create-API-key call returns).
    const API_KEY_ENV: Option<&'static str> = None;
}

/// `--user`, `--password`, `--password-file`, `--token-file`, `--ca-file`,
/// `--insecure`, and `--api-key-file` when [`SecretNames::API_KEY_ENV`] is set.
///
/// Which credentials are sent: `--user` (basic auth) first, then an API key
/// or a token given as a file, then one from the environment (the API key's
/// variable before the token's), else none.
#[derive(Debug, Clone, Default)]
pub struct HttpArgs<S> {
    pub user: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub api_key_file: Option<PathBuf>,
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
        } else if let Some(path) = &self.api_key_file {
            api_key(&Secret::from_file(path)?)
        } else if let Some(path) = &self.token_file {
            Auth::Bearer(Secret::from_file(path)?)
        } else if let Some(key) = S::API_KEY_ENV.map(Secret::from_env).transpose()?.flatten() {
            api_key(&key)
        } else if let Some(token) = Secret::from_env(S::TOKEN_ENV)? {
            Auth::Bearer(token)
        } else {
            Auth::None
        };
        Ok(config)
    }
}

fn api_key(key: &Secret) -> Auth {
    Auth::Header {
        name: "Authorization".into(),
        value: Secret::new(format!("ApiKey {}", key.expose())),
    }
}

const USER: &str = "user";
const PASSWORD: &str = "password";
const PASSWORD_FILE: &str = "password_file";
const TOKEN_FILE: &str = "token_file";
const API_KEY_FILE: &str = "api_key_file";
const CA_FILE: &str = "ca_file";
const INSECURE: &str = "insecure";

impl<S: SecretNames> Args for HttpArgs<S> {
    fn augment_args(cmd: Command) -> Command {
        let cmd = match S::API_KEY_ENV {
            Some(env) => cmd.arg(
                Arg::new(API_KEY_FILE)
                    .long("api-key-file")
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .conflicts_with_all([USER, TOKEN_FILE])
                    .help(format!(
                        "Send 'Authorization: ApiKey' with the key in FILE [or ${env}]"
                    )),
            ),
            None => cmd,
        };
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
            api_key_file: matches
                .try_get_one::<PathBuf>(API_KEY_FILE)
                .ok()
                .flatten()
                .cloned(),
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

    #[derive(Debug, Clone)]
    struct KeySecrets;
    impl SecretNames for KeySecrets {
        const PASSWORD_ENV: &'static str = "NIGHTWATCH_TEST_UNSET_PASSWORD";
        const TOKEN_ENV: &'static str = "NIGHTWATCH_TEST_UNSET_TOKEN";
        const API_KEY_ENV: Option<&'static str> = Some("NIGHTWATCH_TEST_UNSET_API_KEY");
    }

    #[derive(Debug, Parser)]
    struct KeyCli {
        #[command(flatten)]
        http: HttpArgs<KeySecrets>,
    }

    #[test]
    fn api_keys_only_where_the_plugin_takes_them() {
        let dir = tempdir("apikey");
        let file = dir.join("key");
        std::fs::write(
            &file,
            "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\n",
        )
        .unwrap();
        let key = file.to_str().unwrap();
        assert!(
            Cli::try_parse_from(["x", "--api-key-file", key]).is_err(),
            "check-graphite takes no API key"
        );
        let cli = KeyCli::try_parse_from(["x", "--api-key-file", key]).unwrap();
        let auth = cli.http.config(Duration::from_secs(1), "t").unwrap().auth;
        assert_eq!(
            auth,
            Auth::Header {
                name: "Authorization".into(),
                value: Secret::new(
                    "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
                )
            }
        );
        assert!(KeyCli::try_parse_from(["x", "--api-key-file", key, "--user", "u"]).is_err());
        let cli = KeyCli::try_parse_from(["x", "--token-file", key]).unwrap();
        let auth = cli.http.config(Duration::from_secs(1), "t").unwrap().auth;
        assert!(matches!(auth, Auth::Bearer(_)), "{auth:?}");
        let help = {
            use clap::CommandFactory;
            KeyCli::command().render_help().to_string()
        };
        assert!(help.contains("$NIGHTWATCH_TEST_UNSET_API_KEY"), "{help}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempdir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("nightwatch-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    impl Cli {
        fn command_for_help() -> String {
            use clap::CommandFactory;
            Cli::command().render_help().to_string()
        }
    }
}
