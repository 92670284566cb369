//! An account's plan decides its export limits (enforced by the export issues).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Pro,
    Scale,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Pro => "pro",
            Plan::Scale => "scale",
            Plan::Enterprise => "enterprise",
        }
    }
}

/// What an account may export; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Limits {
    pub exports_per_day: Option<u32>,
    pub max_export_bytes: Option<u64>,
    /// The byte limit is the account's own setting, not its plan's (messages name which).
    #[serde(default)]
    pub bytes_set_for_account: bool,
}

/// One setting of an account's limits: follow its plan, a number, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSetting<T> {
    Plan,
    Limited(T),
    Unlimited,
}

impl<T> LimitSetting<T> {
    pub fn map_limited<U>(self, f: impl FnOnce(T) -> U) -> LimitSetting<U> {
        match self {
            LimitSetting::Plan => LimitSetting::Plan,
            LimitSetting::Limited(v) => LimitSetting::Limited(f(v)),
            LimitSetting::Unlimited => LimitSetting::Unlimited,
        }
    }
}

impl<T: std::str::FromStr> LimitSetting<T> {
    /// `plan`, `unlimited` or a number (`size` reads units such as `5GB` for bytes).
    pub fn parse(value: &str, read: impl Fn(&str) -> Option<T>) -> Result<Self, String> {
        match value {
            "plan" => Ok(LimitSetting::Plan),
            "unlimited" => Ok(LimitSetting::Unlimited),
            v => read(v).map(LimitSetting::Limited).ok_or_else(|| {
                format!("`{v}` is not a limit: give a number (sizes like 500MB, 5GB), `unlimited` or `plan`")
            }),
        }
    }
}

/// Reads `1000000`, `500MB`, `5GB`, `2GiB` as bytes (decimal units as the plans are written).
pub fn parse_size(value: &str) -> Option<u64> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KIB" => 1 << 10,
        "MIB" => 1 << 20,
        "GIB" => 1 << 30,
        "TIB" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// `1 GB`, `10 GB`, `512 MB`: how error messages name a byte limit.
pub fn format_size(bytes: u64) -> String {
    let units = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "KB"),
    ];
    for (factor, unit) in units {
        if bytes >= factor {
            let value = bytes as f64 / factor as f64;
            return if bytes.is_multiple_of(factor) {
                format!("{} {unit}", bytes / factor)
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

impl std::str::FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pro" => Ok(Plan::Pro),
            "scale" => Ok(Plan::Scale),
            "enterprise" => Ok(Plan::Enterprise),
            other => Err(format!(
                "unknown plan `{other}`: use pro, scale or enterprise"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_print_in_the_units_plans_use() {
        assert_eq!(parse_size("1GB"), Some(1_000_000_000));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("5 mb"), Some(5_000_000));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(format_size(1_000_000_000), "1 GB");
        assert_eq!(format_size(10_000_000_000), "10 GB");
        assert_eq!(format_size(1_500_000), "1.5 MB");
        assert_eq!(format_size(20), "20 bytes");
    }
}
