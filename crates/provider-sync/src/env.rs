//! Reading configuration from an injectable environment lookup.

use crate::SyncError;

/// The process environment, for `XConfig::from_env(provider_sync::std_env)`.
pub fn std_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The trimmed value of `name`, or `None` when unset or blank.
pub(crate) fn var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Like [`var`], but a missing value is a configuration error.
pub(crate) fn required(
    env: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    enabled_by: &'static str,
) -> Result<String, SyncError> {
    var(env, name).ok_or_else(|| SyncError::Config {
        var: name,
        problem: format!("is required when {enabled_by} is set"),
    })
}

/// `from_env` semantics: a broken configuration disables the provider with a
/// warning (the error text is already secret-free) instead of failing startup.
pub(crate) fn or_disable<T>(provider: &'static str, r: Result<Option<T>, SyncError>) -> Option<T> {
    match r {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(provider, %error, "provider sync disabled: invalid configuration");
            None
        }
    }
}
