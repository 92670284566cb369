//! `report.html`: one self-contained page — inline CSS, no script, no image, no link that
//! loads anything (its CSP is `default-src 'none'; style-src 'unsafe-inline'`) — so it opens
//! offline from the archive and cannot call anywhere. Every value is passed through
//! [`escape`]: page URLs, event properties and even the settings' text come from people who
//! may mean harm, and a report that ran their markup would hand them the reader's browser.

use std::collections::BTreeMap;
use std::io::{self, Write};

use ferry_domain::Millis;
use ferry_domain::export::Identity;
use ferry_domain::privacy_statement::{FIELDS, PrivacyStatement};
use ferry_domain::time::rfc3339_millis;

use super::{About, retention_words};
use crate::package::RowCounts;

/// `&`, `<`, `>`, `"` and `'` as character references: safe in text and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped, with line breaks kept.
fn multiline(text: &str) -> String {
    escape(text).replace('\n', "<br>")
}

/// The export's own facts the report summarises.
pub struct Report<'a> {
    pub export_id: &'a str,
    pub generated_at: &'a str,
    /// The data files beside the report.
    pub files: Vec<String>,
    pub counts: &'a RowCounts,
    /// The first and last instants of the rows exported.
    pub span: Option<(Millis, Millis)>,
    pub identities: &'a [Identity],
    pub about: &'a About,
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0}\
main{max-width:46rem;margin:0 auto;padding:1.5rem}h1{font-size:1.6rem}h2{font-size:1.2rem;\
margin-top:2rem;border-bottom:1px solid #ccc}dt{font-weight:600;margin-top:.75rem}dd{margin:0 0 0 1rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;\
border-bottom:1px solid #ddd;vertical-align:top;overflow-wrap:anywhere}.muted{color:#555}";

const DATA_TYPES: [(&str, &str); 4] = [
    ("pageviews", "Pages viewed"),
    ("events", "Actions (events)"),
    ("sessions", "Visits (sessions)"),
    ("profile", "Profile"),
];

pub fn write(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let id = escape(r.export_id);
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>Your data: export {id}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>Your data</h1>\n<p>Export {id}, generated {at}. All times are UTC. The data itself \
         is in {files} in this archive; manifest.json lists every file with its SHA-256 checksum.</p>\n",
        at = escape(r.generated_at),
        files = escape(&r.files.join(", ")),
    )?;
    controller(out, &r.about.statement)?;
    processing(out, r.about)?;
    summary(out, r)?;
    access_log(out, r.about)?;
    rights(out, &r.about.statement)?;
    out.write_all(b"</main>\n</body>\n</html>\n")
}

fn entry(out: &mut dyn Write, statement: &PrivacyStatement, name: &str) -> io::Result<()> {
    let heading = FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, h)| h);
    let text = statement.field(name).map_or_else(
        || "<span class=\"muted\">Not stated: ask the controller.</span>".into(),
        multiline,
    );
    writeln!(out, "<dt>{}</dt><dd>{text}</dd>", escape(heading))
}

fn controller(out: &mut dyn Write, s: &PrivacyStatement) -> io::Result<()> {
    out.write_all(b"<h2>Who is responsible</h2>\n<dl>\n")?;
    for name in ["controller", "dpo_contact"] {
        entry(out, s, name)?;
    }
    out.write_all(b"</dl>\n")
}

const PROCESSING: [&str; 4] = ["purposes", "recipients", "retention", "source"];

fn processing(out: &mut dyn Write, about: &About) -> io::Result<()> {
    out.write_all(b"<h2>How your data is processed</h2>\n<dl>\n")?;
    for name in PROCESSING {
        entry(out, &about.statement, name)?;
    }
    out.write_all(b"</dl>\n")?;
    for site in &about.websites {
        writeln!(
            out,
            "<h3>On {} ({})</h3>\n<p>Retention: {}.</p>",
            escape(&site.domain),
            escape(&site.website_id),
            escape(&retention_words(site.retention_days))
        )?;
        if let Some(own) = &site.statement {
            out.write_all(b"<p>What differs on this website:</p>\n<dl>\n")?;
            for (name, _) in FIELDS {
                if own.field(name) != about.statement.field(name) {
                    entry(out, own, name)?;
                }
            }
            out.write_all(b"</dl>\n")?;
        }
    }
    Ok(())
}

fn summary(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    out.write_all(
        b"<h2>What this export holds</h2>\n<table>\n<tr><th scope=\"col\">Data</th><th scope=\"col\">Rows</th></tr>\n",
    )?;
    for (key, label) in DATA_TYPES {
        if let Some(n) = r.counts.get(key) {
            writeln!(out, "<tr><td>{label}</td><td>{n}</td></tr>")?;
        }
    }
    out.write_all(b"</table>\n")?;
    match r.span {
        Some((first, last)) => writeln!(
            out,
            "<p>First seen {}, last seen {}.</p>",
            escape(&rfc3339_millis(first)),
            escape(&rfc3339_millis(last))
        )?,
        None => writeln!(out, "<p>No activity in the range exported.</p>")?,
    }
    let mut sites: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for i in r.identities {
        *sites.entry((&i.domain, &i.website_id)).or_default() += 1;
    }
    out.write_all(b"<p>Websites:</p>\n<ul>\n")?;
    for ((domain, id), visitors) in sites {
        writeln!(
            out,
            "<li>{} ({}): {visitors} browser{} (visitor ids) linked to you</li>",
            escape(domain),
            escape(id),
            if visitors == 1 { "" } else { "s" }
        )?;
    }
    out.write_all(b"</ul>\n")
}

fn access_log(out: &mut dyn Write, about: &About) -> io::Result<()> {
    out.write_all(
        b"<h2>Who has accessed your data</h2>\n<p>Every export of your data and every download of one, \
          from the audit trail and the download log. Staff are named by role, not by name.</p>\n",
    )?;
    if about.access_log_omitted > 0 {
        writeln!(
            out,
            "<p class=\"muted\">{} older entries are not shown here; ask the controller for them.</p>",
            about.access_log_omitted
        )?;
    }
    out.write_all(
        b"<table>\n<tr><th scope=\"col\">When (UTC)</th><th scope=\"col\">Who</th><th scope=\"col\">What</th></tr>\n",
    )?;
    for line in &about.access_log {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&line.at),
            escape(&line.who),
            escape(&line.what)
        )?;
    }
    out.write_all(b"</table>\n")
}

fn rights(out: &mut dyn Write, s: &PrivacyStatement) -> io::Result<()> {
    let contact = s
        .dpo_contact
        .as_deref()
        .or(s.controller.as_deref())
        .map_or_else(|| "the controller".to_string(), multiline);
    let authority = s.supervisory_authority.as_deref().map_or_else(
        || "a supervisory authority".to_string(),
        |a| format!("a supervisory authority (such as {})", multiline(a)),
    );
    write!(
        out,
        "<h2>What you can do</h2>\n<ul>\n\
         <li>Ask for a copy of your data (Art. 15), its correction (Art. 16), its erasure (Art. 17), \
         restriction of its processing (Art. 18), to receive it to take elsewhere (Art. 20), or \
         object to its processing (Art. 21), by writing to {contact}.</li>\n\
         <li>Complain to {authority}, in particular in the country where you live or work (Art. 77).</li>\n\
         <li>Seek a judicial remedy against the controller (Art. 79).</li>\n</ul>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_to_text() {
        assert_eq!(
            escape("\"><img src=x onerror=alert(1)> & 'x' <script>"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;x&#39; &lt;script&gt;"
        );
    }
}
