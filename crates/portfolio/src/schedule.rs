//! The calendar arithmetic of a plan's schedule (the rules are in the `dca` module doc).
//!
//! Every date is computed from the anchor as `anchor + n × step`, never from the previous
//! date: stepping Jan 31 → Feb 28 → Mar 28 would lose the anchor day, while anchor-based
//! months give Jan 31 → Feb 28 → Mar 31.

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::dca::{Frequency, Plan};
use crate::error::DcaError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Days(u64),
    Months(u32),
}

/// A plan's scheduled dates, excluded dates included: anchor, anchor + step, … up to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    anchor: NaiveDate,
    step: Step,
    end: Option<NaiveDate>,
}

impl Schedule {
    pub(crate) fn of(plan: &Plan) -> Result<Self, DcaError> {
        let count = match plan.frequency_value {
            None => 1,
            Some(v) if v >= 1 => v.unsigned_abs(),
            Some(v) => {
                return Err(DcaError::BadFrequencyValue {
                    plan_id: plan.id,
                    value: v,
                })
            }
        };
        let days = |per: u64| Step::Days(per * u64::from(count));
        let step = match plan.frequency {
            Frequency::Daily => days(1),
            Frequency::Weekly => days(7),
            Frequency::Biweekly => days(14),
            Frequency::Monthly => Step::Months(count),
        };
        Ok(Self {
            anchor: plan.start_date.unwrap_or(plan.created),
            step,
            end: plan.end_date,
        })
    }

    /// The `n`-th scheduled date (the anchor is the 0-th), ignoring `end`; `None` past the
    /// calendar's range.
    fn nth(&self, n: u64) -> Option<NaiveDate> {
        match self.step {
            Step::Days(k) => self.anchor.checked_add_days(Days::new(n.checked_mul(k)?)),
            // chrono clamps to the month's last day when the anchor day does not exist.
            Step::Months(k) => {
                let months = u32::try_from(n).ok()?.checked_mul(k)?;
                self.anchor.checked_add_months(Months::new(months))
            }
        }
    }

    /// The index of the first scheduled date strictly after `after`, computed rather than
    /// walked to, so a years-old daily plan costs nothing to catch up.
    fn first_index_after(&self, after: NaiveDate) -> u64 {
        if after < self.anchor {
            return 0;
        }
        match self.step {
            Step::Days(k) => {
                let elapsed = (after - self.anchor).num_days().unsigned_abs();
                elapsed / k + 1
            }
            Step::Months(k) => {
                let month = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
                let elapsed = (month(after) - month(self.anchor)).unsigned_abs();
                // That index lands in `after`'s month, possibly on or before it: step past.
                let mut n = elapsed / u64::from(k);
                while self.nth(n).is_some_and(|d| d <= after) {
                    n += 1;
                }
                n
            }
        }
    }

    /// Scheduled dates `d` with `after < d <= until` and `d <= end`, ascending.
    pub(crate) fn between(
        self,
        after: Option<NaiveDate>,
        until: NaiveDate,
    ) -> impl Iterator<Item = NaiveDate> {
        let last = self.end.map_or(until, |end| end.min(until));
        let first = after.map_or(0, |a| self.first_index_after(a));
        (first..)
            .map_while(move |n| self.nth(n))
            .take_while(move |d| *d <= last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The computed first index agrees with walking the schedule date by date.
    #[test]
    fn first_index_after_matches_walking() {
        let anchors = ["2024-01-31", "2024-02-29", "2023-12-15", "2024-03-01"];
        let steps = [
            Step::Days(1),
            Step::Days(3),
            Step::Days(14),
            Step::Months(1),
            Step::Months(2),
            Step::Months(5),
        ];
        for anchor in anchors {
            let anchor: NaiveDate = anchor.parse().unwrap();
            for step in steps {
                let schedule = Schedule {
                    anchor,
                    step,
                    end: None,
                };
                let mut after = anchor - Days::new(40);
                while after < anchor + Days::new(800) {
                    let walked = (0..).find(|&n| schedule.nth(n).unwrap() > after).unwrap();
                    let got = schedule.first_index_after(after);
                    assert_eq!(got, walked, "{anchor} {step:?} after {after}");
                    after = after + Days::new(1);
                }
            }
        }
    }
}
