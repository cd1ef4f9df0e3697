//! Wise Platform API with a personal API token: profiles, balances and
//! balance statements. Amounts are parsed exactly (see `decimal.rs`).

use std::fmt;

use bigdecimal::BigDecimal;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::env::{or_disable, var};
use crate::http::{build_url, standard_hint, Call, HttpSettings, Method, Response, Transport};
use crate::redact::Secret;
use crate::SyncError;

pub const DEFAULT_BASE_URL: &str = "https://api.wise.com";
pub const TOKEN_VAR: &str = "WISE_API_TOKEN";
pub const PROFILE_ID_VAR: &str = "WISE_PROFILE_ID";
pub const BASE_URL_VAR: &str = "WISE_API_BASE_URL";

const PROVIDER: &str = "wise";

#[derive(Clone)]
pub struct WiseConfig {
    pub base_url: String,
    pub token: Secret,
    /// When `None`, every PERSONAL profile from `GET /v2/profiles` is synced.
    pub profile_id: Option<u64>,
    pub http: HttpSettings,
}

impl fmt::Debug for WiseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WiseConfig")
            .field("base_url", &self.base_url)
            .field("token", &"***")
            .field("profile_id", &self.profile_id)
            .field("http", &self.http)
            .finish()
    }
}

impl WiseConfig {
    pub fn new(token: impl Into<Secret>) -> Self {
        WiseConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: token.into(),
            profile_id: None,
            http: HttpSettings::default(),
        }
    }

    /// `None` (sync off) when `WISE_API_TOKEN` is unset/blank or the rest is invalid.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        or_disable(PROVIDER, Self::try_from_env(env))
    }

    /// `Ok(None)` when `WISE_API_TOKEN` is unset/blank; an error for a
    /// non-numeric `WISE_PROFILE_ID`.
    pub fn try_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, SyncError> {
        let Some(token) = var(&env, TOKEN_VAR) else {
            return Ok(None);
        };
        let mut config = Self::new(token);
        if let Some(id) = var(&env, PROFILE_ID_VAR) {
            config.profile_id = Some(id.parse().map_err(|_| SyncError::Config {
                var: PROFILE_ID_VAR,
                problem: "must be a numeric profile id".into(),
            })?);
        }
        if let Some(base) = var(&env, BASE_URL_VAR) {
            config.base_url = base;
        }
        Ok(Some(config))
    }
}

/// An exact amount in a currency, as Wise's `{ "value": .., "currency": .. }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Money {
    #[serde(deserialize_with = "crate::decimal::exact")]
    pub value: BigDecimal,
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WiseProfile {
    pub id: u64,
    /// `PERSONAL` or `BUSINESS`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub full_name: Option<String>,
}

impl WiseProfile {
    pub fn is_personal(&self) -> bool {
        self.kind.eq_ignore_ascii_case("personal")
    }
}

/// One entry of `GET /v4/profiles/{id}/balances?types=STANDARD`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WiseBalance {
    pub id: u64,
    pub currency: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub amount: Money,
    #[serde(default)]
    pub reserved_amount: Option<Money>,
    #[serde(default)]
    pub cash_amount: Option<Money>,
    #[serde(default)]
    pub total_worth: Option<Money>,
}

/// The balances of one profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileBalances {
    pub profile_id: u64,
    pub balances: Vec<WiseBalance>,
}

/// Parameters of a balance statement request (Wise caps the interval at 469 days).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementQuery {
    pub profile_id: u64,
    pub balance_id: u64,
    pub currency: String,
    pub interval_start: DateTime<Utc>,
    pub interval_end: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WiseStatement {
    #[serde(default)]
    pub transactions: Vec<WiseTransaction>,
    #[serde(default)]
    pub end_of_statement_balance: Option<Money>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WiseTransaction {
    pub reference_number: String,
    pub date: DateTime<Utc>,
    /// `CREDIT` or `DEBIT`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub amount: Money,
    #[serde(default)]
    pub total_fees: Option<Money>,
    #[serde(default)]
    pub running_balance: Option<Money>,
    #[serde(default)]
    pub details: WiseTransactionDetails,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct WiseTransactionDetails {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug)]
pub struct WiseClient {
    config: WiseConfig,
    transport: Transport,
}

impl WiseClient {
    pub fn new(config: WiseConfig) -> Result<Self, SyncError> {
        build_url(&config.base_url, "", &[], BASE_URL_VAR)?;
        let secrets = vec![config.token.expose().to_owned()];
        let transport = Transport::new(PROVIDER, &config.http, secrets, http_hint);
        Ok(WiseClient { config, transport })
    }

    pub fn config(&self) -> &WiseConfig {
        &self.config
    }

    /// `GET /v2/profiles`.
    pub fn profiles(&self) -> Result<Vec<WiseProfile>, SyncError> {
        self.get_json("/v2/profiles", &[])
    }

    /// The configured profile, or else every personal profile.
    pub fn profile_ids(&self) -> Result<Vec<u64>, SyncError> {
        if let Some(id) = self.config.profile_id {
            return Ok(vec![id]);
        }
        let profiles = self.profiles()?;
        let ids: Vec<u64> = profiles
            .iter()
            .filter(|p| p.is_personal())
            .map(|p| p.id)
            .collect();
        if ids.is_empty() {
            return Err(SyncError::Refused {
                provider: PROVIDER,
                detail: format!(
                    "no PERSONAL profile among {} profile(s); set {PROFILE_ID_VAR}",
                    profiles.len()
                ),
            });
        }
        Ok(ids)
    }

    /// `GET /v4/profiles/{id}/balances?types=STANDARD`.
    pub fn balances(&self, profile_id: u64) -> Result<Vec<WiseBalance>, SyncError> {
        let path = format!("/v4/profiles/{profile_id}/balances");
        self.get_json(&path, &[("types", "STANDARD")])
    }

    /// Balances of every profile from [`WiseClient::profile_ids`].
    pub fn all_balances(&self) -> Result<Vec<ProfileBalances>, SyncError> {
        self.profile_ids()?
            .into_iter()
            .map(|profile_id| {
                Ok(ProfileBalances {
                    profile_id,
                    balances: self.balances(profile_id)?,
                })
            })
            .collect()
    }

    /// `GET /v1/profiles/{p}/balance-statements/{b}/statement.json`, COMPACT.
    pub fn statement(&self, query: &StatementQuery) -> Result<WiseStatement, SyncError> {
        let path = format!(
            "/v1/profiles/{}/balance-statements/{}/statement.json",
            query.profile_id, query.balance_id
        );
        let start = query
            .interval_start
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let end = query
            .interval_end
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let params = [
            ("currency", query.currency.as_str()),
            ("intervalStart", start.as_str()),
            ("intervalEnd", end.as_str()),
            ("type", "COMPACT"),
        ];
        self.get_json(&path, &params)
    }

    fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, SyncError> {
        let url = build_url(&self.config.base_url, path, query, BASE_URL_VAR)?;
        let authorization = format!("Bearer {}", self.config.token.expose());
        let headers = || {
            vec![
                ("Authorization", authorization.clone()),
                ("Accept", "application/json".to_owned()),
            ]
        };
        let call = Call {
            method: Method::Get,
            url: &url,
            shown: path,
            body: None,
            headers: &headers,
        };
        let response = self.transport.send(&call)?;
        serde_json::from_slice(&response.body).map_err(|e| SyncError::Decode {
            provider: PROVIDER,
            endpoint: path.to_owned(),
            detail: e.to_string(),
        })
    }
}

fn http_hint(response: &Response) -> String {
    if response.status == 403 && response.header("x-2fa-approval").is_some() {
        return "this call needs Wise strong customer authentication (x-2fa-approval), \
                which a personal token cannot complete without a registered signing key"
            .into();
    }
    standard_hint(response.status, TOKEN_VAR, BASE_URL_VAR)
}
