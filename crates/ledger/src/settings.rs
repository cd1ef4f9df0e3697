//! The `system_config` rows the jobs read (keys seeded by the first migration):
//! `base_currency` (`CNY`), `default_dca_fee_rate` (`0.0015`) and `snapshot_timezone`
//! (`Asia/Shanghai`).

use bigdecimal::BigDecimal;
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;

use db_conn::DbConnection;
use pf_data::schema::system_config::dsl as sc;

use crate::error::LedgerError;

pub const BASE_CURRENCY: &str = "base_currency";
pub const DEFAULT_DCA_FEE_RATE: &str = "default_dca_fee_rate";
pub const SNAPSHOT_TIMEZONE: &str = "snapshot_timezone";

/// Zones that never change their offset, so they need no time-zone database. A zone with
/// daylight saving time is refused rather than valued at the wrong hour half the year.
const FIXED_ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("Etc/UTC", 0),
    ("GMT", 0),
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Chongqing", 8 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Macau", 8 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("Asia/Singapore", 8 * 3600),
    ("Asia/Kuala_Lumpur", 8 * 3600),
    ("Asia/Manila", 8 * 3600),
    ("Asia/Tokyo", 9 * 3600),
    ("Asia/Seoul", 9 * 3600),
    ("Asia/Bangkok", 7 * 3600),
    ("Asia/Jakarta", 7 * 3600),
    ("Asia/Kolkata", 5 * 3600 + 1800),
    ("Asia/Dubai", 4 * 3600),
];

/// The settings of one job run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `None` when the row is missing; the jobs that need it say so.
    pub base_currency: Option<String>,
    pub default_fee_rate: Option<BigDecimal>,
    /// Decides which calendar day a timestamp belongs to. UTC when unset.
    pub zone: FixedOffset,
}

impl Settings {
    pub fn read(conn: &mut DbConnection) -> Result<Self, LedgerError> {
        let rows: Vec<(String, String)> = sc::system_config
            .filter(sc::config_key.eq_any([BASE_CURRENCY, DEFAULT_DCA_FEE_RATE, SNAPSHOT_TIMEZONE]))
            .select((sc::config_key, sc::config_value))
            .load(conn)?;
        let value = |key: &str| {
            rows.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let default_fee_rate = match value(DEFAULT_DCA_FEE_RATE) {
            None => None,
            Some(text) => {
                Some(
                    crate::money::parse(&text).map_err(|reason| LedgerError::BadSetting {
                        key: DEFAULT_DCA_FEE_RATE,
                        value: text.clone(),
                        reason: format!("{reason}; store a fraction such as 0.0015 for 0.15%"),
                    })?,
                )
            }
        };
        let zone = match value(SNAPSHOT_TIMEZONE) {
            None => FixedOffset::east_opt(0).expect("zero offset"),
            Some(text) => parse_zone(&text)?,
        };
        Ok(Self {
            base_currency: value(BASE_CURRENCY),
            default_fee_rate,
            zone,
        })
    }

    pub fn base_currency(&self) -> Result<&str, LedgerError> {
        self.base_currency
            .as_deref()
            .ok_or(LedgerError::MissingSetting {
                key: BASE_CURRENCY,
                hint: "the currency net worth is counted in, e.g. CNY",
            })
    }

    /// The first UTC instant after the calendar day `date` in the snapshot zone: rows
    /// stamped before it count as "on or before `date`".
    pub fn day_end_utc(&self, date: NaiveDate) -> NaiveDateTime {
        let next = date.succ_opt().unwrap_or(NaiveDate::MAX);
        let local_midnight = next.and_time(NaiveTime::MIN);
        local_midnight - chrono::Duration::seconds(i64::from(self.zone.local_minus_utc()))
    }

    /// Today's date in the snapshot zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.zone).date_naive()
    }
}

fn parse_zone(text: &str) -> Result<FixedOffset, LedgerError> {
    let bad = || LedgerError::BadSetting {
        key: SNAPSHOT_TIMEZONE,
        value: text.to_owned(),
        reason: format!(
            "not a supported time zone; store a fixed offset such as +08:00, or one of {}",
            FIXED_ZONES
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if let Some((_, seconds)) = FIXED_ZONES.iter().find(|(name, _)| *name == text) {
        return FixedOffset::east_opt(*seconds).ok_or_else(bad);
    }
    let offset = text
        .strip_prefix("UTC")
        .filter(|rest| !rest.is_empty())
        .unwrap_or(text);
    let (sign, rest) = match offset.as_bytes().first() {
        Some(b'+') => (1, &offset[1..]),
        Some(b'-') => (-1, &offset[1..]),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i32 = hours.parse().map_err(|_| bad())?;
    let minutes: i32 = minutes.parse().map_err(|_| bad())?;
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_fixed_offsets() {
        let seconds = |t: &str| parse_zone(t).map(|z| z.local_minus_utc());
        assert_eq!(seconds("Asia/Shanghai").unwrap(), 8 * 3600);
        assert_eq!(seconds("+05:30").unwrap(), 5 * 3600 + 1800);
        assert_eq!(seconds("UTC-5").unwrap(), -5 * 3600);
        assert_eq!(seconds("UTC").unwrap(), 0);
        assert!(seconds("Europe/London").is_err());
        assert!(seconds("+15:00").is_err());
    }

    #[test]
    fn a_day_ends_at_local_midnight() {
        let settings = Settings {
            base_currency: None,
            default_fee_rate: None,
            zone: parse_zone("Asia/Shanghai").unwrap(),
        };
        let date: NaiveDate = "2026-01-01".parse().unwrap();
        let end: NaiveDateTime = "2026-01-01T16:00:00".parse().unwrap();
        assert_eq!(settings.day_end_utc(date), end);
    }
}
