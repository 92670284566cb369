//! `README.txt`'s "About this data (GDPR Art. 15)" section: the statement in plain text.

use std::fmt::Write as _;

use ferry_domain::privacy_statement::{FIELDS, PrivacyStatement};

use super::{About, retention_words};

const NOT_STATED: &str = "not stated: ask the controller";

/// Each field of `statement`, or only those that differ from `base`'s.
fn fields(
    out: &mut String,
    statement: &PrivacyStatement,
    base: Option<&PrivacyStatement>,
    indent: &str,
) {
    for (name, heading) in FIELDS {
        if base.is_some_and(|b| b.field(name) == statement.field(name)) {
            continue;
        }
        let text = statement.field(name).unwrap_or(NOT_STATED);
        let text = text.replace('\n', &format!("\n{indent}  "));
        let _ = writeln!(out, "{indent}{heading}:\n{indent}  {text}");
    }
}

/// The section, ending in a blank line.
pub fn readme_section(about: &About) -> String {
    let mut out = String::from(
        "About this data (GDPR Art. 15)\n\n\
         report.html in this archive says the same as a page you can open in a browser, with a\n\
         summary of this data and a log of who exported or downloaded your data, and when.\n\n",
    );
    fields(&mut out, &about.statement, None, "");
    for site in &about.websites {
        let _ = writeln!(
            out,
            "\nOn {} ({}): {}.",
            site.domain,
            site.website_id,
            retention_words(site.retention_days)
        );
        if let Some(own) = &site.statement {
            let _ = writeln!(out, "  What differs on this website:");
            fields(&mut out, own, Some(&about.statement), "  ");
        }
    }
    out.push_str(
        "\nYour rights: you may ask for a copy of your data (Art. 15), its correction (Art. 16),\n\
         its erasure (Art. 17), restriction of its processing (Art. 18), to receive it to take\n\
         elsewhere (Art. 20), and object to its processing (Art. 21), by writing to the\n\
         controller above. You may complain to a supervisory authority (Art. 77), in\n\
         particular in the country where you live or work, and seek a judicial remedy\n\
         (Art. 79).\n\n",
    );
    out
}
