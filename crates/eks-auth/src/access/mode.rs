//! Pure: a cluster's authentication mode (`accessConfig.authenticationMode`) and the one-way
//! road between modes.
//!
//! Sources: EKS API reference, `AccessConfigResponse` / `UpdateAccessConfigRequest` (the three
//! values); EKS user guide, "Change authentication mode to use access entries"
//! (setting-up-access-entries.html): "you can't change the authentication mode back to a mode
//! that removes the EKS API and access entries", and the CLI step from `API_AND_CONFIG_MAP` to
//! `API` ("If you want to disable the ConfigMap method permanently").

use std::fmt;
use std::str::FromStr;

/// Which stores of "who may enter" a cluster reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthenticationMode {
    /// `CONFIG_MAP`: the aws-auth ConfigMap only (plus the cluster creator's implicit admin).
    ConfigMap,
    /// `API_AND_CONFIG_MAP`: access entries first, then aws-auth.
    ApiAndConfigMap,
    /// `API`: access entries only; aws-auth is ignored.
    Api,
}

/// Why a mode change is refused (EKS answers `InvalidParameterException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModeChangeError {
    #[error("the authentication mode is already `{0}`")]
    Unchanged(AuthenticationMode),
    #[error(
        "the authentication mode cannot go back from `{from}` to `{to}`: EKS only moves CONFIG_MAP -> API_AND_CONFIG_MAP -> API"
    )]
    Backwards {
        from: AuthenticationMode,
        to: AuthenticationMode,
    },
    #[error(
        "the authentication mode moves one step at a time: from `{from}` the next is `{next}`, not `{to}`"
    )]
    Skips {
        from: AuthenticationMode,
        to: AuthenticationMode,
        next: AuthenticationMode,
    },
}

/// Not one of the three wire values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown authentication mode `{0}` (expected CONFIG_MAP, API_AND_CONFIG_MAP or API)")]
pub struct UnknownMode(pub String);

impl AuthenticationMode {
    /// All modes, in the order a cluster may go through them.
    pub const ALL: [AuthenticationMode; 3] = [
        AuthenticationMode::ConfigMap,
        AuthenticationMode::ApiAndConfigMap,
        AuthenticationMode::Api,
    ];

    /// The wire value (`CONFIG_MAP`, `API_AND_CONFIG_MAP`, `API`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthenticationMode::ConfigMap => "CONFIG_MAP",
            AuthenticationMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            AuthenticationMode::Api => "API",
        }
    }

    /// Whether access entries count (and the access-entry API calls are accepted).
    pub fn uses_access_entries(self) -> bool {
        self != AuthenticationMode::ConfigMap
    }

    /// Whether the aws-auth ConfigMap counts.
    pub fn uses_aws_auth(self) -> bool {
        self != AuthenticationMode::Api
    }

    /// The mode after this one, if any.
    pub fn next(self) -> Option<AuthenticationMode> {
        match self {
            AuthenticationMode::ConfigMap => Some(AuthenticationMode::ApiAndConfigMap),
            AuthenticationMode::ApiAndConfigMap => Some(AuthenticationMode::Api),
            AuthenticationMode::Api => None,
        }
    }

    /// Whether EKS accepts a change from `self` to `to`: exactly one step forward.
    pub fn check_change(self, to: AuthenticationMode) -> Result<(), ModeChangeError> {
        if to == self {
            return Err(ModeChangeError::Unchanged(self));
        }
        if to < self {
            return Err(ModeChangeError::Backwards { from: self, to });
        }
        match self.next() {
            Some(next) if next == to => Ok(()),
            Some(next) => Err(ModeChangeError::Skips {
                from: self,
                to,
                next,
            }),
            None => Err(ModeChangeError::Backwards { from: self, to }),
        }
    }
}

impl fmt::Display for AuthenticationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthenticationMode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuthenticationMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::AuthenticationMode::*;
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for m in AuthenticationMode::ALL {
            assert_eq!(m.as_str().parse::<AuthenticationMode>().unwrap(), m);
        }
        assert_eq!(
            "config_map"
                .parse::<AuthenticationMode>()
                .unwrap_err()
                .to_string(),
            "unknown authentication mode `config_map` (expected CONFIG_MAP, API_AND_CONFIG_MAP or API)"
        );
    }

    #[test]
    fn stores_by_mode() {
        assert_eq!(
            AuthenticationMode::ALL.map(|m| (m.uses_access_entries(), m.uses_aws_auth())),
            [(false, true), (true, true), (true, false)]
        );
    }

    #[test]
    fn one_way_one_step() {
        assert_eq!(ConfigMap.check_change(ApiAndConfigMap), Ok(()));
        assert_eq!(ApiAndConfigMap.check_change(Api), Ok(()));
        assert_eq!(
            ConfigMap.check_change(Api),
            Err(ModeChangeError::Skips {
                from: ConfigMap,
                to: Api,
                next: ApiAndConfigMap
            })
        );
        assert_eq!(
            Api.check_change(ApiAndConfigMap),
            Err(ModeChangeError::Backwards {
                from: Api,
                to: ApiAndConfigMap
            })
        );
        assert_eq!(
            ApiAndConfigMap
                .check_change(ConfigMap)
                .unwrap_err()
                .to_string(),
            "the authentication mode cannot go back from `API_AND_CONFIG_MAP` to `CONFIG_MAP`: EKS only moves CONFIG_MAP -> API_AND_CONFIG_MAP -> API"
        );
        assert_eq!(Api.check_change(Api), Err(ModeChangeError::Unchanged(Api)));
    }
}
