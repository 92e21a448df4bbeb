//! The mock's user accounts: who may log in with which password.

use std::fmt;

/// One account of the mock server.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name, as sent in Basic auth and the `User` query parameter.
    pub user: String,
    /// The password (never printed: `Debug` hides it).
    pub password: String,
    /// The SMTP address, e.g. for Settings UserInformation.
    pub email: String,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("email", &self.email)
            .finish()
    }
}

impl Account {
    /// An account with an address at `example.test`.
    pub fn new(user: &str, password: &str) -> Account {
        Account {
            user: user.to_string(),
            password: password.to_string(),
            email: format!("{user}@example.test"),
        }
    }

    /// The two built-in test accounts, `alice` and `bob`. Their passwords are
    /// public fixtures (`alice-pass`, `bob-pass`): the mock only listens on
    /// loopback and holds no real data.
    pub fn defaults() -> Vec<Account> {
        vec![
            Account::new("alice", "alice-pass"),
            Account::new("bob", "bob-pass"),
        ]
    }
}

/// Why an accounts file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AccountsError {
    pub line: usize,
    pub message: String,
}

/// Parses an accounts file: one `user:password[:email]` per line; blank lines
/// and lines starting with `#` are ignored.
pub fn parse_accounts(text: &str) -> Result<Vec<Account>, AccountsError> {
    let mut accounts: Vec<Account> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| AccountsError {
            line: i + 1,
            message,
        };
        let mut parts = line.splitn(3, ':');
        let user = parts.next().unwrap_or_default().trim();
        let password = parts
            .next()
            .ok_or_else(|| err("expected `user:password[:email]`".into()))?;
        if user.is_empty() || password.is_empty() {
            return Err(err(
                "the user name and the password must not be empty".into()
            ));
        }
        if accounts.iter().any(|a| a.user == user) {
            return Err(err(format!("user `{user}` is defined twice")));
        }
        let mut account = Account::new(user, password);
        if let Some(email) = parts.next() {
            account.email = email.trim().to_string();
        }
        accounts.push(account);
    }
    if accounts.is_empty() {
        return Err(AccountsError {
            line: 0,
            message: "no accounts defined".into(),
        });
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hides_passwords() {
        let a = parse_accounts("# test users\nann:secret\nbo:pw:bo@corp.test\n").unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].email, "ann@example.test");
        assert_eq!(a[1].email, "bo@corp.test");
        assert!(!format!("{a:?}").contains("secret"));
        assert_eq!(parse_accounts("ann\n").unwrap_err().line, 1);
        assert_eq!(parse_accounts("a:b\na:c").unwrap_err().line, 2);
        assert!(parse_accounts("# nothing").is_err());
    }
}
