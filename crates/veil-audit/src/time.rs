//! UTC timestamps (RFC 3339) and time windows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::AuditError;

/// An instant, always held in UTC, read and written as RFC 3339.
///
/// Parsing accepts any RFC 3339 offset (`2026-03-01T09:00:00+01:00`) and converts to UTC;
/// writing always produces UTC with a `Z` suffix and only as many fraction digits as needed
/// (`2026-03-01T08:00:00Z`, `2026-03-01T08:00:00.25Z`). The year must stay within 0001-9999
/// in UTC, so that formatting can never fail.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Seconds in a day, for retention limits given in days.
const DAY_SECONDS: i64 = 86_400;

impl Timestamp {
    /// The current time, truncated to whole milliseconds (enough to order human actions, and
    /// keeps log lines short).
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        let millis = now.millisecond();
        // `replace_millisecond` only fails for values >= 1000, which `millisecond()` never returns.
        Timestamp(now.replace_millisecond(millis).unwrap_or(now))
    }

    /// Parses an RFC 3339 timestamp and converts it to UTC.
    ///
    /// # Errors
    /// [`AuditError::InvalidTimestamp`] when the text is not RFC 3339 or the year (in UTC) is
    /// outside 0001-9999.
    pub fn parse(text: &str) -> Result<Self, AuditError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| AuditError::InvalidTimestamp {
            input: text.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_offset_date_time(parsed).ok_or_else(|| AuditError::InvalidTimestamp {
            input: text.to_owned(),
            reason: "year outside 0001-9999 in UTC".to_owned(),
        })
    }

    /// Builds a timestamp from Unix seconds (UTC). Returns `None` out of 0001-9999.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .and_then(Self::from_offset_date_time)
    }

    /// Seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Builds a timestamp from Unix milliseconds (UTC). Returns `None` out of 0001-9999.
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .and_then(Self::from_offset_date_time)
    }

    /// Milliseconds since the Unix epoch (negative before 1970), rounded down.
    pub fn unix_millis(&self) -> i64 {
        // Years 0001-9999 in milliseconds fit an i64 many times over.
        (self.0.unix_timestamp_nanos().div_euclid(1_000_000)) as i64
    }

    /// Wraps a `time::OffsetDateTime`, converted to UTC. Returns `None` out of 0001-9999.
    /// Crate-private so that `time` stays an implementation detail of the public API.
    pub(crate) fn from_offset_date_time(t: OffsetDateTime) -> Option<Self> {
        let utc = t.checked_to_offset(UtcOffset::UTC)?;
        (1..=9999).contains(&utc.year()).then_some(Timestamp(utc))
    }

    /// This instant plus `days` whole days, or `None` past year 9999.
    pub fn checked_add_days(&self, days: u32) -> Option<Self> {
        let delta = time::Duration::seconds(i64::from(days) * DAY_SECONDS);
        self.0.checked_add(delta).and_then(Self::from_offset_date_time)
    }

    /// This instant minus `seconds`, or `None` before year 0001.
    pub fn checked_sub_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_sub(time::Duration::seconds(seconds))
            .and_then(Self::from_offset_date_time)
    }

    /// This instant plus `seconds`, or `None` past year 9999.
    pub fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(time::Duration::seconds(seconds))
            .and_then(Self::from_offset_date_time)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cannot fail: the constructor keeps the year within 0001-9999 and the offset at UTC.
        let text = self.0.format(&Rfc3339).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.0.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A closed time window `[from, to]` (both ends included), serialised as
/// `{"from": "...", "to": "..."}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// First instant of the window.
    pub from: Timestamp,
    /// Last instant of the window.
    pub to: Timestamp,
}

impl Window {
    /// A window; `from` must not be after `to`.
    ///
    /// # Errors
    /// [`AuditError::InvalidEntry`] when `from > to`.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self, AuditError> {
        let w = Window { from, to };
        w.check().map_err(|reason| AuditError::InvalidEntry { reason })?;
        Ok(w)
    }

    /// Whether the two closed windows share at least one instant. Inclusive on purpose: at a
    /// boundary the planner keeps footage rather than deleting it.
    pub fn overlaps(&self, other: &Window) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if self.from > self.to {
            Err(format!(
                "window ends ({}) before it starts ({})",
                self.to, self.from
            ))
        } else {
            Ok(())
        }
    }
}
