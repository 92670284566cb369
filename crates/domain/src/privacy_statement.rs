//! What a controller tells a data subject beside their data (GDPR Art. 13–15): who the
//! controller is, why and for whom the data is processed, how long it is kept, where it came
//! from. Set per account; a website may override any field. Free text, checked for length and
//! control characters only: it is shown to people, escaped, and never interpreted.

use serde::{Deserialize, Serialize};

/// Longest text of one field, in characters.
pub const MAX_FIELD: usize = 4_000;

/// The fields, in the order every reader shows them: `(name, human heading)`.
pub const FIELDS: [(&str, &str); 7] = [
    (
        "controller",
        "Who is responsible for your data (the controller)",
    ),
    ("dpo_contact", "Data protection officer"),
    ("purposes", "Why your data is processed (purposes)"),
    ("recipients", "Who receives your data (recipients)"),
    ("retention", "How long your data is kept"),
    ("source", "Where your data comes from"),
    (
        "supervisory_authority",
        "Supervisory authority you may complain to",
    ),
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyStatement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpo_contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purposes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisory_authority: Option<String>,
}

impl PrivacyStatement {
    /// The field called `name` (one of [`FIELDS`]).
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "controller" => &mut self.controller,
            "dpo_contact" => &mut self.dpo_contact,
            "purposes" => &mut self.purposes,
            "recipients" => &mut self.recipients,
            "retention" => &mut self.retention,
            "source" => &mut self.source,
            "supervisory_authority" => &mut self.supervisory_authority,
            _ => return None,
        })
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "controller" => self.controller.as_deref(),
            "dpo_contact" => self.dpo_contact.as_deref(),
            "purposes" => self.purposes.as_deref(),
            "recipients" => self.recipients.as_deref(),
            "retention" => self.retention.as_deref(),
            "source" => self.source.as_deref(),
            "supervisory_authority" => self.supervisory_authority.as_deref(),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        FIELDS.iter().all(|(name, _)| self.field(name).is_none())
    }

    /// Each field of `self` where set, else `fallback`'s: a website's statement over its
    /// account's.
    pub fn over(&self, fallback: &PrivacyStatement) -> PrivacyStatement {
        let mut out = fallback.clone();
        for (name, _) in FIELDS {
            if let (Some(value), Some(slot)) = (self.field(name), out.field_mut(name)) {
                *slot = Some(value.to_string());
            }
        }
        out
    }
}

/// Checks one field's text: `None` for an empty one (it clears the field).
pub fn check_field(name: &str, value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_FIELD
        || value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(format!(
            "`{name}` must be at most {MAX_FIELD} characters of text (line breaks and tabs \
             allowed, no other control characters)"
        ));
    }
    Ok(Some(value.to_string()))
}

/// A statement as stored: who set it last, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatement {
    pub statement: PrivacyStatement,
    pub updated_at: crate::Millis,
    /// The audit actor that set it (a key id, `cli`, a dashboard user's email).
    pub updated_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_website_field_overrides_its_account_and_an_unset_one_inherits() {
        let account = PrivacyStatement {
            controller: Some("Acme".into()),
            purposes: Some("analytics".into()),
            ..Default::default()
        };
        let website = PrivacyStatement {
            purposes: Some("shop statistics".into()),
            ..Default::default()
        };
        let merged = website.over(&account);
        assert_eq!(merged.controller.as_deref(), Some("Acme"));
        assert_eq!(merged.purposes.as_deref(), Some("shop statistics"));
        assert!(merged.source.is_none());
    }

    #[test]
    fn fields_are_checked_for_length_and_control_characters() {
        assert_eq!(check_field("x", "  "), Ok(None));
        assert_eq!(check_field("x", " a\nb "), Ok(Some("a\nb".into())));
        assert!(check_field("x", "a\u{0}b").is_err());
        assert!(check_field("x", &"é".repeat(MAX_FIELD + 1)).is_err());
        assert!(check_field("x", &"é".repeat(MAX_FIELD)).is_ok());
    }
}
