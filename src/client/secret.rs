//! [`Secret`]: a password (or any credential) that never prints itself.
//!
//! The harness writes logs, snapshots and reports that end up in CI
//! artifacts; a password must not leak into any of them by way of a
//! `{:?}` on a config. `Secret` prints `[redacted]` in both `Debug` and
//! `Display`, and the only way to read it is [`Secret::expose`], which
//! makes every use greppable.

use std::fmt;
use std::path::Path;

use super::ClientError;

/// What `Debug` and `Display` print instead of the secret.
const REDACTED: &str = "[redacted]";

/// A credential that prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The credential itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads the credential from the environment variable `var`. Unset,
    /// empty and non-Unicode values are errors (an empty password is
    /// nearly always a variable that was not exported).
    pub fn from_env(var: &str) -> Result<Secret, ClientError> {
        let bad = |reason: &str| ClientError::SecretEnv {
            var: var.to_string(),
            reason: reason.to_string(),
        };
        match std::env::var(var) {
            Ok(value) if value.is_empty() => Err(bad("it is empty")),
            Ok(value) => Ok(Secret(value)),
            Err(std::env::VarError::NotPresent) => Err(bad("it is not set")),
            Err(std::env::VarError::NotUnicode(_)) => Err(bad("its value is not valid Unicode")),
        }
    }

    /// Reads the credential from the first line of a file (the way
    /// Docker and Kubernetes secrets are mounted); the line ending (`\n` or
    /// `\r\n`) is not part of it. A missing, unreadable, non-UTF-8 file or
    /// an empty first line is an error that names the file, never its
    /// content.
    pub fn from_file(path: &Path) -> Result<Secret, ClientError> {
        let bad = |reason: String| ClientError::SecretFile {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
        let line = text.lines().next().unwrap_or_default();
        if line.is_empty() {
            return Err(bad("its first line is empty".into()));
        }
        Ok(Secret(line.to_string()))
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_redacted() {
        let s = Secret::new("hunter2-Zq");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.to_string(), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2-Zq");
    }

    #[test]
    fn from_file_takes_the_first_line() {
        let dir = std::env::temp_dir().join(format!("eastest-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pw");
        std::fs::write(&path, "p@ss word\r\nsecond\n").unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "p@ss word");
        std::fs::write(&path, "only\n").unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "only");
        std::fs::write(&path, "\nlater").unwrap();
        let e = Secret::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("first line is empty"), "{e}");
        assert!(!e.contains("later"), "{e}");
        let missing = dir.join("nope");
        let e = Secret::from_file(&missing).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn from_env_errors_name_the_variable() {
        let e = Secret::from_env("EASTEST_SURELY_UNSET_VARIABLE_42")
            .unwrap_err()
            .to_string();
        assert!(e.contains("EASTEST_SURELY_UNSET_VARIABLE_42"), "{e}");
        assert!(e.contains("not set"), "{e}");
    }
}
