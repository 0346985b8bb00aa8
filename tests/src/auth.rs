//! Authentication: who sent a request.
//!
//! Bearer tokens go through a chain of [`Authenticator`]s (static test tokens first, then the EKS
//! authenticator); a request without credentials is `system:anonymous`, as kube-apiserver with
//! anonymous auth enabled treats it; a token nobody accepts is 401.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// An authenticated user, as TokenReview's `status.user` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct User {
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    /// `system:anonymous` in `system:unauthenticated`.
    pub fn anonymous() -> User {
        User {
            username: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
            ..User::default()
        }
    }

    /// Adds `system:authenticated`, as the apiserver's authentication filter does.
    pub fn authenticated(mut self) -> User {
        if !self.groups.iter().any(|g| g == "system:authenticated") {
            self.groups.push("system:authenticated".into());
        }
        self
    }
}

/// Why a token was refused. The client only ever sees 401 `Unauthorized`; the reason is for the
/// request log and the testbed's own tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token is not one this authenticator handles (the next one in the chain is asked).
    #[error("token not recognized")]
    NotMine,
    /// The token is this authenticator's kind, and invalid.
    #[error("{0}")]
    Rejected(String),
}

/// A boxed future, so authenticators can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One way of turning a bearer token into a [`User`].
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<User, AuthError>>;
}

/// Fixed tokens for tests: `TOKEN=user:group1,group2`. `Debug` lists the users, not the tokens
/// (the authenticator chain is `Debug` and may be printed).
#[derive(Clone, Default)]
pub struct StaticTokens {
    tokens: BTreeMap<String, User>,
}

impl std::fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticTokens")
            .field("users", &self.tokens.values().collect::<Vec<_>>())
            .finish()
    }
}

/// A `--static-token` argument that does not read `TOKEN=user[:group,...]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("static token `{0}` is not of the form TOKEN=user[:group1,group2]")]
pub struct StaticTokenError(pub String);

impl StaticTokens {
    /// Adds one token from its `TOKEN=user:group1,group2` spelling. The token itself never appears
    /// in the error.
    pub fn add_spec(&mut self, spec: &str) -> Result<(), StaticTokenError> {
        let (token, rest) = spec
            .split_once('=')
            .ok_or_else(|| StaticTokenError("<no =>".into()))?;
        let (user, groups) = rest.split_once(':').unwrap_or((rest, ""));
        if token.is_empty() || user.is_empty() {
            return Err(StaticTokenError(format!("<redacted>={rest}")));
        }
        let groups = groups
            .split(',')
            .filter(|g| !g.is_empty())
            .map(String::from)
            .collect();
        self.add(
            token,
            User {
                username: user.into(),
                groups,
                ..User::default()
            },
        );
        Ok(())
    }

    /// Adds one token for a user.
    pub fn add(&mut self, token: &str, user: User) {
        self.tokens.insert(token.to_string(), user);
    }
}

impl Authenticator for StaticTokens {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<User, AuthError>> {
        let found = self.tokens.get(token).cloned().ok_or(AuthError::NotMine);
        Box::pin(async move { found })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_token_spec() {
        let mut t = StaticTokens::default();
        t.add_spec("abc=alice:dev,ops").unwrap();
        t.add_spec("def=bob").unwrap();
        assert_eq!(t.tokens["abc"].groups, vec!["dev", "ops"]);
        assert_eq!(t.tokens["def"].username, "bob");
        assert!(t.tokens["def"].groups.is_empty());
        assert_eq!(
            t.add_spec("secret").unwrap_err().to_string(),
            "static token `<no =>` is not of the form TOKEN=user[:group1,group2]"
        );
        let debug = format!("{t:?}");
        assert!(!debug.contains("abc") && !debug.contains("def"), "{debug}");
        assert!(debug.contains("alice") && debug.contains("bob"), "{debug}");
        assert!(
            !t.add_spec("secret=")
                .unwrap_err()
                .to_string()
                .contains("secret")
        );
    }
}
