//! Secrets from a flag, a file or an environment variable: `ps` shows
//! command lines, so a password never needs to be on one.

use std::path::{Path, PathBuf};

/// A password or token; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Why a secret could not be read; names the file or variable.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the secret file {}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the secret file {} is empty", path.display())]
    EmptyFile { path: PathBuf },
    #[error("the environment variable {name} is not valid UTF-8")]
    NotUnicode { name: String },
    /// A NUL or other control character cannot travel in an HTTP header:
    /// sending no credentials instead would look like a permissions problem.
    #[error("{origin} holds a control character ({found}), which no HTTP header can carry")]
    ControlCharacter { origin: String, found: String },
}

/// The largest secret file read: a password or token is a line, and
/// `--password-file /dev/zero` must not read until memory runs out.
pub const MAX_SECRET_FILE: u64 = 64 << 10;

/// Refuses a secret an HTTP header cannot carry (tab is allowed, as in
/// header values).
fn check_header_safe(value: &str, origin: impl FnOnce() -> String) -> Result<(), SecretError> {
    match value.chars().find(|&c| c.is_control() && c != '\t') {
        Some(c) => Err(SecretError::ControlCharacter {
            origin: origin(),
            found: format!("U+{:04X}", u32::from(c)),
        }),
        None => Ok(()),
    }
}

impl Secret {
    #[must_use]
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret's text, for the one place that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first line of `path`: editors and `echo` leave a trailing newline
    /// that is not part of the secret.
    pub fn from_file(path: &Path) -> Result<Secret, SecretError> {
        let unreadable = |source| SecretError::Unreadable {
            path: path.to_owned(),
            source,
        };
        let bytes =
            nightwatch_core::file::read_bounded(path, MAX_SECRET_FILE).map_err(unreadable)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            unreadable(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "it is not UTF-8 text",
            ))
        })?;
        let line = text.lines().next().unwrap_or_default();
        if line.is_empty() {
            return Err(SecretError::EmptyFile {
                path: path.to_owned(),
            });
        }
        check_header_safe(line, || format!("the secret file {}", path.display()))?;
        Ok(Secret(line.to_owned()))
    }

    /// The variable's value, `None` when unset or empty.
    pub fn from_env(name: &str) -> Result<Option<Secret>, SecretError> {
        match std::env::var(name) {
            Ok(value) if value.is_empty() => Ok(None),
            Ok(value) => {
                check_header_safe(&value, || format!("the environment variable {name}"))?;
                Ok(Some(Secret(value)))
            }
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode {
                name: name.to_owned(),
            }),
        }
    }

    /// The first given of: the flag's value, the file, the variable.
    pub fn resolve(
        flag: Option<&str>,
        file: Option<&Path>,
        env_name: &str,
    ) -> Result<Option<Secret>, SecretError> {
        if let Some(value) = flag {
            return Ok(Some(Secret(value.to_owned())));
        }
        if let Some(path) = file {
            return Secret::from_file(path).map(Some);
        }
        Secret::from_env(env_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_secret_is_its_first_line() {
        let dir = std::env::temp_dir().join(format!("nightwatch-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("password");
        std::fs::write(&path, "hunter2\n").unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "hunter2");
        std::fs::write(&path, "\n").unwrap();
        let err = Secret::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("is empty") && err.contains("password"),
            "{err}"
        );
        let missing = Secret::from_file(&dir.join("nope"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("cannot read the secret file") && missing.contains("nope"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn endless_and_binary_secret_files_are_refused_by_name() {
        let err = Secret::from_file(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/dev/zero"), "{err}");
        let dir = std::env::temp_dir().join(format!("nightwatch-nul-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, b"abc\0def\n").unwrap();
        let err = Secret::from_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("token") && err.contains("U+0000") && err.contains("control character"),
            "{err}"
        );
        std::fs::write(&path, "tab\tok\n").unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "tab\tok");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn flag_beats_file_beats_env_and_debug_hides_it() {
        let secret = Secret::resolve(Some("flag"), Some(Path::new("/nonexistent")), "X").unwrap();
        assert_eq!(secret.as_ref().map(Secret::expose), Some("flag"));
        assert_eq!(format!("{:?}", secret.unwrap()), "Secret(…)");
        let unset = Secret::resolve(None, None, "NIGHTWATCH_SURELY_UNSET_VARIABLE").unwrap();
        assert!(unset.is_none());
    }
}
