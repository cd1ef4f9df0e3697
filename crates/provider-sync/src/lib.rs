//! Blocking clients for the providers a personal-finance backend syncs from:
//! IBKR Flex Web Service, Wise, OKX v5 and any EVM JSON-RPC node.
//!
//! Each provider is enabled only by its own credentials in the environment:
//! `XConfig::from_env(provider_sync::std_env)` returns `None` when they are
//! absent. All requests share one retrying, timeout-bounded transport; money
//! is `BigDecimal` end to end (never `f64`); credentials are kept out of logs,
//! errors and `Debug` output.
//!
//! | provider | enabled by | also read |
//! | --- | --- | --- |
//! | [`ibkr`] | `IBKR_FLEX_TOKEN` | `IBKR_FLEX_QUERY_ID` (required), `IBKR_FLEX_BASE_URL` |
//! | [`wise`] | `WISE_API_TOKEN` | `WISE_PROFILE_ID`, `WISE_API_BASE_URL` |
//! | [`okx`] | `OKX_API_KEY` | `OKX_API_SECRET`, `OKX_API_PASSPHRASE` (required), `OKX_API_BASE_URL` |
//! | [`evm`] | `EVM_RPC_URL` | `EVM_WALLETS` (required), `EVM_TOKENS` (`SYMBOL:0xcontract:decimals,...`) |
//!
//! A provider whose enabling variable is set but whose other settings are
//! missing or malformed is disabled by `from_env` with a warning;
//! `try_from_env` returns the [`SyncError::Config`] instead.
#![forbid(unsafe_code)]

mod decimal;
mod env;
mod error;
pub mod evm;
mod http;
pub mod ibkr;
pub mod okx;
mod redact;
pub mod wise;

pub use env::std_env;
pub use error::SyncError;
pub use http::{HttpSettings, RetryPolicy};
pub use redact::Secret;

/// The configuration of every provider whose credentials are present.
#[derive(Clone, Debug, Default)]
pub struct ProviderConfigs {
    pub ibkr: Option<ibkr::IbkrConfig>,
    pub wise: Option<wise::WiseConfig>,
    pub okx: Option<okx::OkxConfig>,
    pub evm: Option<evm::EvmConfig>,
}

impl ProviderConfigs {
    /// Reads all four; a provider with missing or broken settings is `None`
    /// (and a broken one is logged as a warning, without secrets).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        ProviderConfigs {
            ibkr: ibkr::IbkrConfig::from_env(&env),
            wise: wise::WiseConfig::from_env(&env),
            okx: okx::OkxConfig::from_env(&env),
            evm: evm::EvmConfig::from_env(&env),
        }
    }
}
