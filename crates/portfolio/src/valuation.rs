//! Converting amounts between currencies with stored daily rates, and valuing holdings.
//!
//! # Which rate
//! A rate row `from → to, rate` on day D means `1 from = rate to`. Converting on day `on`
//! uses, for a pair, the row dated `on` or else the latest row before it; a later row is
//! never used, even if it is the only one. A pair is crossed
//! - directly, with a `from → to` row (amount × rate), or
//! - inversely, with a `to → from` row (amount / rate);
//!
//! and when both exist the more recent row wins (the direct one on a tie). With neither,
//! the route goes through one intermediate currency X (`from → X → to`, each leg direct or
//! inverse), choosing the X whose older leg is the most recent, then the alphabetically
//! first X so the choice is repeatable. Nothing further is guessed: with no route the
//! answer is [`ValuationError::MissingRate`], naming the row to add.
//!
//! # Rounding
//! A route's result is kept as an exact fraction (amount × direct rates / inverse rates)
//! and rounded once:
//! - [`RateBook::convert`]: to at most [`CONVERT_SCALE`] (18) places, half-even: exact when
//!   that many places hold it, the scale of every NUMERIC(38,18) column.
//! - [`RateBook::convert_rounded`] and `base_value` in [`value_holdings`]: to the requested
//!   places (2 for `base_value`), half-even, straight from the exact fraction (no double
//!   rounding through 18 places). Half-even because these values are summed into net worth
//!   totals, where always rounding halves up would bias the sum upwards.
//!
//! Currency codes are compared exactly (`pf-data` stores them upper-case).

use std::collections::{BTreeMap, BTreeSet};

use bigdecimal::{BigDecimal, One, RoundingMode, Zero};
use chrono::NaiveDate;

use crate::error::{MissingRate, Unpriced, ValuationError};
use crate::round::div_round;

/// Decimal places of [`RateBook::convert`]'s result when the exact one is longer.
pub const CONVERT_SCALE: i64 = 18;
/// Decimal places of a holding's `base_value`.
pub const BASE_VALUE_SCALE: i64 = 2;

/// One `exchange_rate_snapshots` row: on `date`, 1 `from` = `rate` `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub date: NaiveDate,
    pub from: String,
    pub to: String,
    pub rate: BigDecimal,
}

/// One hop of a route, in the direction of travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub from: String,
    pub to: String,
    /// The date of the row used (on or before the conversion date).
    pub date: NaiveDate,
    /// The stored rate: `from → to` when `inverse` is false, `to → from` when true.
    pub rate: BigDecimal,
    pub inverse: bool,
}

/// The legs converting one currency into another; empty for the same currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub legs: Vec<Leg>,
}

impl Route {
    /// `amount` through the route as an exact fraction (numerator, denominator).
    fn fraction(&self, amount: &BigDecimal) -> (BigDecimal, BigDecimal) {
        let mut num = amount.clone();
        let mut den = BigDecimal::one();
        for leg in &self.legs {
            if leg.inverse {
                den *= &leg.rate;
            } else {
                num *= &leg.rate;
            }
        }
        (num, den)
    }
}

type Pair = (String, String);

/// Every known rate, by pair and date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateBook {
    pairs: BTreeMap<Pair, BTreeMap<NaiveDate, BigDecimal>>,
}

impl RateBook {
    /// Rejects a rate ≤ 0 (it could not be inverted) and two different rates for the same
    /// pair and day. Rows converting a currency into itself are ignored: never needed.
    pub fn new(rates: impl IntoIterator<Item = Rate>) -> Result<Self, ValuationError> {
        let mut pairs: BTreeMap<Pair, BTreeMap<NaiveDate, BigDecimal>> = BTreeMap::new();
        for Rate {
            date,
            from,
            to,
            rate,
        } in rates
        {
            if rate <= BigDecimal::zero() {
                let rate = rate.to_string();
                return Err(ValuationError::NonPositiveRate {
                    from,
                    to,
                    date,
                    rate,
                });
            }
            if from == to {
                continue;
            }
            let days = pairs.entry((from.clone(), to.clone())).or_default();
            match days.get(&date) {
                Some(first) if *first != rate => {
                    return Err(ValuationError::ConflictingRate {
                        from,
                        to,
                        date,
                        first: first.to_string(),
                        second: rate.to_string(),
                    });
                }
                _ => days.insert(date, rate),
            };
        }
        Ok(Self { pairs })
    }

    /// The latest row of `from → to` on or before `on`.
    fn latest(&self, from: &str, to: &str, on: NaiveDate) -> Option<(NaiveDate, &BigDecimal)> {
        let days = self.pairs.get(&(from.to_owned(), to.to_owned()))?;
        days.range(..=on).next_back().map(|(d, r)| (*d, r))
    }

    /// One hop `from → to`: the more recent of the direct and the inverse row.
    fn leg(&self, from: &str, to: &str, on: NaiveDate) -> Option<Leg> {
        let direct = self.latest(from, to, on);
        let inverse = self.latest(to, from, on);
        let (date, rate, inverse) = match (direct, inverse) {
            (Some(d), Some(i)) if i.0 > d.0 => (i.0, i.1, true),
            (Some(d), _) => (d.0, d.1, false),
            (None, Some(i)) => (i.0, i.1, true),
            (None, None) => return None,
        };
        Some(Leg {
            from: from.into(),
            to: to.into(),
            date,
            rate: rate.clone(),
            inverse,
        })
    }

    fn currencies(&self) -> BTreeSet<&str> {
        let codes = self
            .pairs
            .keys()
            .flat_map(|(a, b)| [a.as_str(), b.as_str()]);
        codes.collect()
    }

    /// The legs that convert `from` into `to` on `on` (see the module doc for the choice).
    pub fn route(&self, from: &str, to: &str, on: NaiveDate) -> Result<Route, ValuationError> {
        if from == to {
            return Ok(Route { legs: Vec::new() });
        }
        if let Some(leg) = self.leg(from, to, on) {
            return Ok(Route { legs: vec![leg] });
        }
        let mut best: Option<(NaiveDate, Vec<Leg>)> = None;
        // `currencies()` is sorted, and only a strictly fresher route replaces the best, so
        // ties go to the alphabetically first intermediate.
        for via in self.currencies() {
            if via == from || via == to {
                continue;
            }
            let (Some(first), Some(second)) = (self.leg(from, via, on), self.leg(via, to, on))
            else {
                continue;
            };
            let staler = first.date.min(second.date);
            if best.as_ref().is_none_or(|(date, _)| staler > *date) {
                best = Some((staler, vec![first, second]));
            }
        }
        best.map(|(_, legs)| Route { legs })
            .ok_or_else(|| ValuationError::MissingRate {
                from: from.into(),
                to: to.into(),
                on,
            })
    }

    /// `amount` in `from` expressed in `to` on `on`: exact when it fits in
    /// [`CONVERT_SCALE`] places, else rounded half-even to them.
    pub fn convert(
        &self,
        amount: &BigDecimal,
        from: &str,
        to: &str,
        on: NaiveDate,
    ) -> Result<BigDecimal, ValuationError> {
        let (num, den) = self.route(from, to, on)?.fraction(amount);
        if den.is_one() && num.fractional_digit_count() <= CONVERT_SCALE {
            return Ok(num);
        }
        divide(&num, &den, CONVERT_SCALE, (amount, from, to))
    }

    /// `amount` in `from` expressed in `to` on `on`, rounded once, half-even, to `scale`.
    pub fn convert_rounded(
        &self,
        amount: &BigDecimal,
        from: &str,
        to: &str,
        on: NaiveDate,
        scale: i64,
    ) -> Result<BigDecimal, ValuationError> {
        let (num, den) = self.route(from, to, on)?.fraction(amount);
        divide(&num, &den, scale, (amount, from, to))
    }
}

fn divide(
    num: &BigDecimal,
    den: &BigDecimal,
    scale: i64,
    (amount, from, to): (&BigDecimal, &str, &str),
) -> Result<BigDecimal, ValuationError> {
    // `den` is a product of rates checked to be > 0, so only absurd digit counts fail.
    div_round(num, den, scale, RoundingMode::HalfEven).ok_or_else(|| {
        ValuationError::Unrepresentable {
            amount: amount.to_string(),
            from: from.into(),
            to: to.into(),
        }
    })
}

/// A position or snapshot to value: `value` is in `currency`, `price` is per unit in
/// `currency` (a token priced in USD has currency USD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub platform: String,
    pub asset_type: String,
    pub asset_code: String,
    pub currency: String,
    pub quantity: BigDecimal,
    pub price: Option<BigDecimal>,
    pub value: Option<BigDecimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valued {
    pub holding: Holding,
    /// In the holding's currency: its stored value, else quantity × price, rounded
    /// half-even to [`CONVERT_SCALE`] places only if longer (so it fits NUMERIC(38,18)).
    pub value: BigDecimal,
    /// In the base currency, [`BASE_VALUE_SCALE`] places, half-even, computed from the
    /// exact value (not the 18-place one).
    pub base_value: BigDecimal,
}

/// Values every holding in `base_currency` on `date`. A stored value wins over
/// quantity × price (it is what the platform reported). All missing rates and unpriced
/// holdings are reported together in one [`ValuationError::Incomplete`].
pub fn value_holdings(
    holdings: &[Holding],
    base_currency: &str,
    date: NaiveDate,
    book: &RateBook,
) -> Result<Vec<Valued>, ValuationError> {
    let mut valued = Vec::with_capacity(holdings.len());
    let mut missing = BTreeSet::new();
    let mut unpriced = Vec::new();
    for holding in holdings {
        let exact = match (&holding.value, &holding.price) {
            (Some(value), _) => value.clone(),
            (None, Some(price)) => &holding.quantity * price,
            (None, None) => {
                unpriced.push(Unpriced {
                    platform: holding.platform.clone(),
                    asset_code: holding.asset_code.clone(),
                });
                continue;
            }
        };
        let from = holding.currency.as_str();
        match book.convert_rounded(&exact, from, base_currency, date, BASE_VALUE_SCALE) {
            Ok(base_value) => valued.push(Valued {
                holding: holding.clone(),
                value: cap_scale(exact),
                base_value,
            }),
            Err(ValuationError::MissingRate { from, to, on }) => {
                missing.insert(MissingRate { from, to, on });
            }
            Err(other) => return Err(other),
        }
    }
    if missing.is_empty() && unpriced.is_empty() {
        return Ok(valued);
    }
    Err(ValuationError::Incomplete {
        missing_rates: missing.into_iter().collect(),
        unpriced,
    })
}

fn cap_scale(value: BigDecimal) -> BigDecimal {
    if value.fractional_digit_count() > CONVERT_SCALE {
        value.with_scale_round(CONVERT_SCALE, RoundingMode::HalfEven)
    } else {
        value
    }
}
