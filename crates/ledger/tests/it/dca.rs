use diesel::prelude::*;

use ledger::dca;
use pf_data::models::*;
use pf_data::resource::Resource;
use pf_data::schema::dca_plans::dsl as dp;
use pf_data::schema::user_operations::dsl as uo;

use crate::support::*;

type Op = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

fn operations(conn: &mut db_conn::DbConnection, plan_id: i64) -> Vec<UserOperation> {
    uo::user_operations
        .filter(uo::dca_plan_id.eq(plan_id))
        .order(uo::operation_date.asc())
        .select(UserOperation::as_select())
        .load(conn)
        .unwrap()
}

fn last_executed(conn: &mut db_conn::DbConnection, plan_id: i64) -> Option<chrono::NaiveDate> {
    DcaPlan::get(conn, plan_id).unwrap().last_executed_date
}

fn assert_ops(rows: &[UserOperation], want: &[Op], db: &str) {
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.operation_date.to_string(),
                r.amount.to_string(),
                r.fee.as_ref().map(ToString::to_string),
                r.quantity.as_ref().map(ToString::to_string),
                r.price.as_ref().map(ToString::to_string),
                r.nav.as_ref().map(ToString::to_string),
            )
        })
        .collect();
    let want: Vec<_> = want
        .iter()
        .map(|(date, amount, fee, q, p, n)| {
            let s = |v: &Option<&str>| v.map(str::to_owned);
            (
                date.to_string(),
                amount.to_string(),
                Some(fee.to_string()),
                s(q),
                s(p),
                s(n),
            )
        })
        .collect();
    assert_eq!(got, want, "{db}");
}

#[test]
fn weekly_plan_with_excluded_date_and_fee_over_three_months() {
    for db in TestDb::each("weekly_plan_with_excluded_date_and_fee_over_three_months") {
        let conn = &mut db.migrated();
        let mut weekly = plan("weekly", "333.33", "2026-01-05");
        weekly.fee_rate = Some(dec("0.0015"));
        weekly.exclude_dates = Some(r#"["2026-02-16"]"#.into());
        let weekly = create_plan(conn, &weekly);
        let mut monthly = plan("monthly", "1000", "2026-01-31");
        monthly.frequency = "monthly".into();
        monthly.asset_code = "000001".into();
        let monthly = create_plan(conn, &monthly);
        // The day's prices: a snapshot price on Jan 12, the fund's NAV on Mar 30.
        let snapshot = NewAssetSnapshot {
            snapshot_date: d("2026-01-12"),
            snapshot_time: t("2026-01-12T15:00:00"),
            platform: "Alipay".into(),
            asset_type: "fund".into(),
            asset_code: "110011".into(),
            asset_name: None,
            currency: "CNY".into(),
            quantity: dec("1"),
            price: Some(dec("1.1")),
            value: dec("1.1"),
            base_value: Some(dec("1.1")),
        };
        AssetSnapshot::create(conn, &snapshot).unwrap();
        let fund = NewFundInfo {
            fund_code: "110011".into(),
            fund_name: "E Fund".into(),
            fund_type: None,
            currency: "CNY".into(),
            nav: Some(dec("1.2345")),
            nav_date: Some(d("2026-03-30")),
        };
        FundInfo::create(conn, &fund).unwrap();

        let report = dca::run(conn, d("2026-03-31")).unwrap();
        assert_eq!(report.plans_seen, 2, "{}", db.name());
        assert_eq!(report.created.len(), 15, "{}", db.name());
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let none = None;
        #[rustfmt::skip]
        let want: Vec<Op> = vec![
            ("2026-01-05", "333.33", "0.5", none, none, none),
            ("2026-01-12", "333.33", "0.5", Some("302.57272727"), Some("1.1"), none),
            ("2026-01-19", "333.33", "0.5", none, none, none),
            ("2026-01-26", "333.33", "0.5", none, none, none),
            ("2026-02-02", "333.33", "0.5", none, none, none),
            ("2026-02-09", "333.33", "0.5", none, none, none),
            ("2026-02-23", "333.33", "0.5", none, none, none),
            ("2026-03-02", "333.33", "0.5", none, none, none),
            ("2026-03-09", "333.33", "0.5", none, none, none),
            ("2026-03-16", "333.33", "0.5", none, none, none),
            ("2026-03-23", "333.33", "0.5", none, none, none),
            ("2026-03-30", "333.33", "0.5", Some("269.60712839"), Some("1.2345"), Some("1.2345")),
        ];
        let rows = operations(conn, weekly);
        assert_ops(&rows, &want, db.name());
        for row in &rows {
            assert_eq!(row.operation_type, "buy");
            assert_eq!(
                (
                    row.platform.as_str(),
                    row.asset_code.as_str(),
                    row.currency.as_str()
                ),
                ("Alipay", "110011", "CNY")
            );
            let key = dca::external_id(weekly, row.operation_date);
            assert_eq!(row.external_id.as_deref(), Some(key.as_str()));
        }
        // No fee rate on the plan: system_config.default_dca_fee_rate (0.0015) applies.
        #[rustfmt::skip]
        let want: Vec<Op> = vec![
            ("2026-01-31", "1000", "1.5", none, none, none),
            ("2026-02-28", "1000", "1.5", none, none, none),
            ("2026-03-31", "1000", "1.5", none, none, none),
        ];
        assert_ops(&operations(conn, monthly), &want, db.name());
        assert_eq!(report.created[0].fee_rate, dec("0.0015"));
        assert_eq!(last_executed(conn, weekly), Some(d("2026-03-30")));
        assert_eq!(last_executed(conn, monthly), Some(d("2026-03-31")));

        // The report survives a JSON round trip (the API returns it).
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(
            serde_json::from_str::<dca::DcaReport>(&json).unwrap(),
            report
        );

        let again = dca::run(conn, d("2026-03-31")).unwrap();
        assert!(
            again.created.is_empty(),
            "{}: {:?}",
            db.name(),
            again.created
        );
        assert_eq!(count::<UserOperation>(conn), 15, "{}", db.name());
    }
}

#[test]
fn paused_finished_and_unreadable_plans_create_nothing() {
    for db in TestDb::each("paused_finished_and_unreadable_plans_create_nothing") {
        let conn = &mut db.migrated();
        let mut paused = plan("paused", "100", "2026-01-05");
        paused.status = "paused".into();
        let paused = create_plan(conn, &paused);
        let mut finished = plan("finished", "100", "2026-01-05");
        finished.status = "finished".into();
        let finished = create_plan(conn, &finished);
        // Rows the API would refuse, written directly: skipped with the reason, not fatal.
        let mut unknown = plan("unknown", "100", "2026-01-05");
        unknown.frequency = "fortnightly".into();
        let unknown = create_plan(conn, &unknown);
        let active = create_plan(conn, &plan("active", "100", "2026-01-05"));

        let report = dca::run(conn, d("2026-01-31")).unwrap();
        let plans: Vec<i64> = report.created.iter().map(|c| c.plan_id).collect();
        assert_eq!(plans, vec![active; 4], "{}", db.name());
        let reason = |id: i64| {
            let found = report.skipped.iter().find(|(p, _)| *p == id);
            found.map(|(_, r)| r.clone()).unwrap_or_default()
        };
        assert!(reason(paused).starts_with("paused"), "{}", reason(paused));
        assert!(
            reason(finished).starts_with("finished"),
            "{}",
            reason(finished)
        );
        assert!(
            reason(unknown).contains("fortnightly"),
            "{}",
            reason(unknown)
        );
        // A pause skips the dates it covers; a finished plan is left alone.
        assert_eq!(last_executed(conn, paused), Some(d("2026-01-26")));
        assert_eq!(last_executed(conn, finished), None);
        assert_eq!(last_executed(conn, unknown), None);

        diesel::update(dp::dca_plans.find(paused))
            .set(dp::status.eq("active"))
            .execute(conn)
            .unwrap();
        let resumed = dca::run(conn, d("2026-02-02")).unwrap();
        let dates: Vec<String> = resumed
            .created
            .iter()
            .filter(|c| c.plan_id == paused)
            .map(|c| c.date.to_string())
            .collect();
        assert_eq!(dates, ["2026-02-02"], "{}", db.name());
    }
}

#[test]
fn a_missed_period_is_caught_up_exactly_once() {
    for db in TestDb::each("a_missed_period_is_caught_up_exactly_once") {
        let conn = &mut db.migrated();
        let id = create_plan(conn, &plan("weekly", "50", "2026-01-05"));
        let dates = |r: &dca::DcaReport| -> Vec<String> {
            r.created.iter().map(|c| c.date.to_string()).collect()
        };
        assert_eq!(
            dates(&dca::run(conn, d("2026-01-05")).unwrap()),
            ["2026-01-05"]
        );
        assert!(dates(&dca::run(conn, d("2026-01-05")).unwrap()).is_empty());
        // The job did not run for three weeks.
        let caught_up = dca::run(conn, d("2026-01-27")).unwrap();
        assert_eq!(
            dates(&caught_up),
            ["2026-01-12", "2026-01-19", "2026-01-26"],
            "{}",
            db.name()
        );
        assert!(dates(&dca::run(conn, d("2026-01-27")).unwrap()).is_empty());

        // Even with last_executed_date reset, recorded dates are not bought again.
        diesel::update(dp::dca_plans.find(id))
            .set(dp::last_executed_date.eq(None::<chrono::NaiveDate>))
            .execute(conn)
            .unwrap();
        let reset = dca::run(conn, d("2026-01-27")).unwrap();
        assert!(
            reset.created.is_empty(),
            "{}: {:?}",
            db.name(),
            reset.created
        );
        assert_eq!(reset.skipped.len(), 4, "{:?}", reset.skipped);
        assert!(
            reset.skipped[0].1.contains("already has an operation"),
            "{:?}",
            reset.skipped
        );
        assert_eq!(count::<UserOperation>(conn), 4, "{}", db.name());
        assert_eq!(last_executed(conn, id), Some(d("2026-01-26")));
    }
}

#[test]
fn concurrent_runs_buy_each_date_once() {
    for db in TestDb::each("concurrent_runs_buy_each_date_once") {
        let mut conn = db.migrated();
        create_plan(&mut conn, &plan("weekly", "50", "2026-01-05"));
        let created: usize = std::thread::scope(|s| {
            let runs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let conn = &mut db.connect();
                        dca::run(conn, d("2026-03-31")).unwrap().created.len()
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).sum()
        });
        assert_eq!(created, 13, "{}", db.name());
        assert_eq!(count::<UserOperation>(&mut conn), 13, "{}", db.name());
    }
}
