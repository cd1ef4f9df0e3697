//! Executing DCA plans: one `buy` row in `user_operations` per due date.
//!
//! # Semantics
//! - Due dates, fees and quantities are `portfolio::dca`'s rules. The fee rate is the plan's
//!   `fee_rate`, else `system_config.default_dca_fee_rate`, else 0.
//! - The day's price: the fund's NAV when `fund_info` (`fund_code` = the plan's
//!   `asset_code`, same currency) has one dated that very day (recorded as both `price` and
//!   `nav`), else the `price` of that day's `asset_snapshots` row of the same platform, asset
//!   and currency. Unknown → `quantity`, `price` and `nav` stay NULL (filled in later by hand).
//! - Exactly once: after recording a plan's due dates its `last_executed_date` moves to the
//!   last scheduled date up to `as_of` (excluded dates count). Independently of that, a date
//!   that already has an operation of the plan is never bought again, so resetting
//!   `last_executed_date` cannot duplicate a purchase; and each purchase carries the
//!   `external_id` `dca-plan:<id>:<date>`, which the unique index on (platform,
//!   external_id) refuses twice.
//! - Paused: nothing is bought and `last_executed_date` still moves forward, so a pause
//!   skips the dates it covers instead of buying them all on resumption (a pause means "do
//!   not buy"). Finished plans are not touched at all.
//! - A plan whose row cannot be read (unknown frequency, malformed exclude_dates, fee rate
//!   out of range) is skipped with the reason and left unchanged; the others still run.
//! - One transaction for the whole run, behind the DCA job lock: a database failure leaves
//!   nothing half-recorded, and two concurrent runs cannot both buy the same date.

use std::collections::BTreeSet;

use bigdecimal::{BigDecimal, Zero};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use db_conn::DbConnection;
use pf_data::decimal::Decimal;
use pf_data::models::{DcaPlan, NewUserOperation, UserOperation};
use pf_data::resource::Resource;
use pf_data::schema::user_operations::dsl as uo;
use pf_data::schema::{asset_snapshots::dsl as snap, dca_plans::dsl as dp, fund_info::dsl as fi};
use portfolio::{DcaError, Execution, Plan, PlanStatus};

use crate::error::LedgerError;
use crate::lock::{self, Job};
use crate::money::{big, column};
use crate::settings::Settings;

/// The `operation_type` of a purchase (one of pf-data's `OPERATION_TYPES`).
pub const BUY: &str = "buy";

/// One `user_operations` row the run created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedOp {
    pub operation_id: i64,
    pub plan_id: i64,
    pub date: NaiveDate,
    pub platform: String,
    pub asset_code: String,
    pub currency: String,
    /// Money spent, fee included.
    pub amount: Decimal,
    pub fee_rate: Decimal,
    pub fee: Decimal,
    pub quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub nav: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcaReport {
    pub as_of: NaiveDate,
    pub created: Vec<CreatedOp>,
    pub plans_seen: usize,
    /// `(plan_id, reason)`: plans not executed, and dates not bought again.
    pub skipped: Vec<(i64, String)>,
}

/// Executes every plan's purchases due up to `as_of`, in one transaction.
pub fn run(conn: &mut DbConnection, as_of: NaiveDate) -> Result<DcaReport, LedgerError> {
    let report = conn.transaction(|conn| {
        lock::take(conn, Job::Dca)?;
        let settings = Settings::read(conn)?;
        let plans: Vec<DcaPlan> = dp::dca_plans
            .select(DcaPlan::as_select())
            .order(dp::id.asc())
            .load(conn)?;
        let mut report = DcaReport {
            as_of,
            created: Vec::new(),
            plans_seen: plans.len(),
            skipped: Vec::new(),
        };
        for row in &plans {
            run_plan(conn, row, as_of, &settings, &mut report)?;
        }
        Ok::<_, LedgerError>(report)
    })?;
    tracing::info!(
        %as_of,
        plans = report.plans_seen,
        created = report.created.len(),
        skipped = report.skipped.len(),
        "DCA run"
    );
    Ok(report)
}

fn run_plan(
    conn: &mut DbConnection,
    row: &DcaPlan,
    as_of: NaiveDate,
    settings: &Settings,
    report: &mut DcaReport,
) -> Result<(), LedgerError> {
    let mut skip = |reason: String| -> Result<(), LedgerError> {
        report.skipped.push((row.id, reason));
        Ok(())
    };
    let plan = match to_plan(row) {
        Ok(plan) => plan,
        Err(e) => return skip(format!("not executed: {e}")),
    };
    match plan.status {
        PlanStatus::Finished => return skip("finished: never due again".into()),
        PlanStatus::Paused => {
            advance(conn, &plan, as_of)?;
            return skip(format!("paused: dates up to {as_of} are skipped"));
        }
        PlanStatus::Active => {}
    }
    let due = portfolio::due_dates(&plan, as_of).map_err(|e| e.to_string());
    let due = match due {
        Ok(due) => due,
        Err(e) => return skip(format!("not executed: {e}")),
    };
    let recorded: BTreeSet<NaiveDate> = uo::user_operations
        .filter(uo::dca_plan_id.eq(row.id))
        .filter(uo::operation_date.eq_any(&due))
        .select(uo::operation_date)
        .load::<NaiveDate>(conn)?
        .into_iter()
        .collect();
    let prices = Prices::load(conn, row)?;
    let mut executions = Vec::new();
    for date in due {
        if recorded.contains(&date) {
            skip(format!(
                "{date}: already has an operation of this plan; not bought again"
            ))?;
            continue;
        }
        let (price, nav) = prices.on(conn, row, date)?;
        let fee_rate = settings.default_fee_rate.as_ref();
        let scale = currency_scale(&row.currency);
        match portfolio::execution(&plan, date, price.as_ref(), fee_rate, scale) {
            Ok(execution) => executions.push((execution, nav)),
            // Nothing of the plan is written: a fix to the row then buys every date at once.
            Err(e) => return skip(format!("not executed: {e}")),
        }
    }
    let mut inputs = Vec::with_capacity(executions.len());
    for (execution, nav) in &executions {
        let input = build(row, execution, nav.clone())?;
        if let Err(reason) = UserOperation::validate(&input) {
            return skip(format!("not executed: {reason}"));
        }
        inputs.push(input);
    }
    for ((execution, _), input) in executions.iter().zip(inputs) {
        report.created.push(insert(conn, row.id, execution, input)?);
    }
    advance(conn, &plan, as_of)
}

/// Stores `next_last_executed` when it moved.
fn advance(conn: &mut DbConnection, plan: &Plan, as_of: NaiveDate) -> Result<(), LedgerError> {
    let Ok(next) = portfolio::next_last_executed(plan, as_of) else {
        return Ok(());
    };
    if next != plan.last_executed_date {
        let now = chrono::Utc::now().naive_utc();
        diesel::update(dp::dca_plans.find(plan.id))
            .set((dp::last_executed_date.eq(next), dp::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}

fn to_plan(row: &DcaPlan) -> Result<Plan, DcaError> {
    Ok(Plan {
        id: row.id,
        frequency: row.frequency.parse()?,
        frequency_value: row.frequency_value,
        start_date: row.start_date,
        end_date: row.end_date,
        last_executed_date: row.last_executed_date,
        exclude_dates: portfolio::parse_exclude_dates(row.exclude_dates.as_deref())?,
        amount: big(&row.amount),
        fee_rate: row.fee_rate.as_ref().map(big),
        status: row.status.parse()?,
        created: row.created_at.date(),
    })
}

/// Decimal places of an amount in `currency`: 0 for currencies without minor units.
fn currency_scale(currency: &str) -> i64 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        _ => portfolio::dca::DEFAULT_CURRENCY_SCALE,
    }
}

/// Where a plan's daily price comes from (see the module doc).
struct Prices {
    /// The fund's NAV and its date, when the plan's asset is a fund in the plan's currency.
    fund_nav: Option<(NaiveDate, BigDecimal)>,
}

impl Prices {
    fn load(conn: &mut DbConnection, row: &DcaPlan) -> QueryResult<Self> {
        let fund: Option<(Option<Decimal>, Option<NaiveDate>)> = fi::fund_info
            .filter(fi::fund_code.eq(&row.asset_code))
            .filter(fi::currency.eq(&row.currency))
            .select((fi::nav, fi::nav_date))
            .first(conn)
            .optional()?;
        let fund_nav = match fund {
            Some((Some(nav), Some(date))) => Some((date, big(&nav))),
            _ => None,
        };
        Ok(Self { fund_nav })
    }

    /// `(price, nav)` on `date`; a price of 0 or less is treated as unknown.
    fn on(
        &self,
        conn: &mut DbConnection,
        row: &DcaPlan,
        date: NaiveDate,
    ) -> QueryResult<(Option<BigDecimal>, Option<BigDecimal>)> {
        let positive = |p: &BigDecimal| *p > BigDecimal::zero();
        if let Some((nav_date, nav)) = &self.fund_nav {
            if *nav_date == date && positive(nav) {
                return Ok((Some(nav.clone()), Some(nav.clone())));
            }
        }
        let price: Option<Option<Decimal>> = snap::asset_snapshots
            .filter(snap::snapshot_date.eq(date))
            .filter(snap::platform.eq(&row.platform))
            .filter(snap::asset_code.eq(&row.asset_code))
            .filter(snap::currency.eq(&row.currency))
            .filter(snap::price.is_not_null())
            .order((snap::snapshot_time.desc(), snap::id.desc()))
            .select(snap::price)
            .first(conn)
            .optional()?;
        Ok((price.flatten().map(|p| big(&p)).filter(positive), None))
    }
}

/// The purchase's natural key in `user_operations.external_id`: the unique index on
/// (platform, external_id) makes the database itself refuse a second purchase of a plan's
/// date, whatever `last_executed_date` says.
pub fn external_id(plan_id: i64, date: NaiveDate) -> String {
    format!("dca-plan:{plan_id}:{date}")
}

/// The `user_operations` row of one purchase.
fn build(
    row: &DcaPlan,
    execution: &Execution,
    nav: Option<BigDecimal>,
) -> Result<NewUserOperation, LedgerError> {
    let date = execution.date;
    let what = |field: &str| format!("plan {} on {date}: {field}", row.id);
    let optional =
        |field: &str, v: Option<BigDecimal>| v.map(|v| column(what(field), v)).transpose();
    Ok(NewUserOperation {
        operation_date: date,
        platform: row.platform.clone(),
        asset_code: row.asset_code.clone(),
        operation_type: BUY.into(),
        quantity: optional("quantity", execution.quantity.clone())?,
        price: optional("price", execution.price.clone())?,
        amount: column(what("amount"), execution.amount.clone())?,
        currency: row.currency.clone(),
        fee: Some(column(what("fee"), execution.fee.clone())?),
        notes: Some(format!("DCA plan #{}: {}", row.id, row.plan_name)),
        dca_plan_id: Some(row.id),
        nav: optional("nav", nav)?,
        external_id: Some(external_id(row.id, date)),
    })
}

fn insert(
    conn: &mut DbConnection,
    plan_id: i64,
    execution: &Execution,
    input: NewUserOperation,
) -> Result<CreatedOp, LedgerError> {
    let operation_id: i64 = diesel::insert_into(uo::user_operations)
        .values(&input)
        .returning(uo::id)
        .get_result(conn)?;
    let fee_rate = format!("plan {plan_id} on {}: fee_rate", execution.date);
    Ok(CreatedOp {
        operation_id,
        plan_id,
        date: input.operation_date,
        platform: input.platform,
        asset_code: input.asset_code,
        currency: input.currency,
        amount: input.amount,
        fee_rate: column(fee_rate, execution.fee_rate.clone())?,
        fee: input.fee.unwrap_or_else(Decimal::zero),
        quantity: input.quantity,
        price: input.price,
        nav: input.nav,
    })
}
