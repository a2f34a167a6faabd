//! Where a page's links point: the live API of `waymark serve`, or the files that
//! `waymark site` writes beside the page. The URLs are built here as plain text; the
//! templates escape them for HTML like any other text.

/// Where the page's links point: the live API, or the files `waymark site` writes.
#[derive(Debug, Clone)]
pub enum Links {
    /// `waymark serve`: `base` is `http://host` for copyable commands.
    Server { base: String },
    /// `waymark site`: paths relative to the page. The site keeps the inclusion proof
    /// files of seq `proofs_from` and later only (the newest 1,000): any other proof
    /// comes from the tiles.
    Static { proofs_from: u64 },
}

impl Links {
    fn api(&self, id: &str, server: &str, file: &str) -> String {
        match self {
            Links::Server { .. } => format!("/api/ledgers/{id}/{server}"),
            Links::Static { .. } => format!("api/ledgers/{id}/{file}"),
        }
    }

    /// The inclusion proof of `seq`, or `None` on a site that keeps no file for it.
    pub fn inclusion(&self, id: &str, seq: u64) -> Option<String> {
        match self {
            Links::Static { proofs_from } if seq < *proofs_from => None,
            _ => Some(self.api(
                id,
                &format!("proof/inclusion/{seq}"),
                &format!("proof/inclusion/{seq}.json"),
            )),
        }
    }

    /// The C2SP tlog-tiles prefix of ledger `id` (its `checkpoint`, `tile/…`), for
    /// `prove … --tiles`.
    pub(crate) fn tiles(&self, id: &str) -> String {
        match self {
            Links::Server { base } => format!("{base}/api/ledgers/{id}"),
            Links::Static { .. } => format!("api/ledgers/{id}"),
        }
    }

    pub fn review(&self, id: &str, season: i64, ext: &str) -> String {
        let format = if ext == "md" { "md" } else { ext };
        self.api(
            id,
            &format!("reviews/{season}?format={format}"),
            &format!("reviews/{season}.{ext}"),
        )
    }

    pub(super) fn events(&self, id: &str) -> String {
        self.api(id, "events", "export.jsonl")
    }

    pub(super) fn checkpoint(&self, id: &str) -> String {
        self.api(id, "checkpoint", "checkpoint.txt")
    }

    pub(super) fn snapshot(&self, id: &str) -> String {
        self.api(id, "snapshot", "snapshot.json")
    }

    pub(super) fn status(&self, id: &str, point: Option<&str>) -> String {
        match (self, point) {
            (Links::Server { .. }, Some(p)) => {
                format!("/api/ledgers/{id}/status?as_of={}", query_value(p))
            }
            (Links::Static { .. }, Some(p)) => format!("api/ledgers/{id}/status-{}.json", slug(p)),
            _ => self.api(id, "status", "status.json"),
        }
    }

    pub(super) fn graph(&self, id: &str, ext: &str) -> String {
        let format = if ext == "mmd" { "mermaid" } else { ext };
        self.api(
            id,
            &format!("graph?format={format}"),
            &format!("graph.{ext}"),
        )
    }

    /// The dashboard page at a point (`None`: the head).
    pub fn page(&self, id: &str, point: Option<&str>) -> String {
        match (self, point) {
            (Links::Server { .. }, None) => format!("/ledgers/{id}"),
            (Links::Server { .. }, Some(p)) => format!("/ledgers/{id}?as_of={}", query_value(p)),
            (Links::Static { .. }, None) => "index.html".into(),
            (Links::Static { .. }, Some(p)) => format!("{}.html", slug(p)),
        }
    }

    /// The "Who decides" page at a point (`None`: the head).
    pub fn decisions(&self, id: &str, point: Option<&str>) -> String {
        match (self, point) {
            (Links::Server { .. }, None) => format!("/ledgers/{id}/decisions"),
            (Links::Server { .. }, Some(p)) => {
                format!("/ledgers/{id}/decisions?as_of={}", query_value(p))
            }
            (Links::Static { .. }, None) => "decisions.html".into(),
            (Links::Static { .. }, Some(p)) => format!("decisions-{}.html", slug(p)),
        }
    }

    /// The decision map as JSON at a point (`GET …/decisions`).
    pub(super) fn decisions_json(&self, id: &str, point: Option<&str>) -> String {
        match (self, point) {
            (Links::Server { .. }, Some(p)) => {
                format!("/api/ledgers/{id}/decisions?as_of={}", query_value(p))
            }
            (Links::Static { .. }, Some(p)) => {
                format!("api/ledgers/{id}/decisions-{}.json", slug(p))
            }
            _ => self.api(id, "decisions", "decisions.json"),
        }
    }

    /// The decision diagram at a point in a format (`svg`, `dot`, `mmd`): the graph API
    /// with `decisions=true`, or the site's `decisions-graph[-as-of-…].EXT`.
    pub(super) fn decisions_graph(&self, id: &str, point: Option<&str>, ext: &str) -> String {
        let format = if ext == "mmd" { "mermaid" } else { ext };
        match (self, point) {
            (Links::Server { .. }, None) => {
                format!("/api/ledgers/{id}/graph?decisions=true&format={format}")
            }
            (Links::Server { .. }, Some(p)) => format!(
                "/api/ledgers/{id}/graph?decisions=true&format={format}&as_of={}",
                query_value(p)
            ),
            (Links::Static { .. }, None) => format!("api/ledgers/{id}/decisions-graph.{ext}"),
            (Links::Static { .. }, Some(p)) => {
                format!("api/ledgers/{id}/decisions-graph-{}.{ext}", slug(p))
            }
        }
    }

    /// The bodies as JSON at a point (`GET …/bodies`).
    pub(super) fn bodies_json(&self, id: &str, point: Option<&str>) -> String {
        match (self, point) {
            (Links::Server { .. }, Some(p)) => {
                format!("/api/ledgers/{id}/bodies?as_of={}", query_value(p))
            }
            (Links::Static { .. }, Some(p)) => format!("api/ledgers/{id}/bodies-{}.json", slug(p)),
            _ => self.api(id, "bodies", "bodies.json"),
        }
    }

    /// The URL a reader copies into `curl`.
    pub(super) fn absolute(&self, link: &str) -> String {
        match self {
            Links::Server { base } => format!("{base}{link}"),
            Links::Static { .. } => link.to_string(),
        }
    }
}

/// A query value with the characters that would change its meaning escaped (a
/// `time:` point's `+02:00` would otherwise read as a space). URL encoding, not HTML
/// escaping: the URL it goes into is escaped as text by the template.
pub(super) fn query_value(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '%' => o.push_str("%25"),
            '+' => o.push_str("%2B"),
            '&' => o.push_str("%26"),
            '#' => o.push_str("%23"),
            ' ' => o.push_str("%20"),
            c => o.push(c),
        }
    }
    o
}

/// `season:7` → `as-of-season-7` (a file name).
pub fn slug(point: &str) -> String {
    format!(
        "as-of-{}",
        point
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_keep_their_meaning() {
        assert_eq!(
            query_value("time:2025-01-02T03:04:05+02:00"),
            "time:2025-01-02T03:04:05%2B02:00"
        );
        assert_eq!(query_value("a b&c#d%e"), "a%20b%26c%23d%25e");
    }

    const STATIC: Links = Links::Static { proofs_from: 5 };

    #[test]
    fn a_site_links_only_the_proofs_it_keeps() {
        assert_eq!(STATIC.inclusion("l", 4), None);
        assert_eq!(
            STATIC.inclusion("l", 5).as_deref(),
            Some("api/ledgers/l/proof/inclusion/5.json")
        );
        let server = Links::Server {
            base: "http://h".into(),
        };
        assert_eq!(
            server.inclusion("l", 1).as_deref(),
            Some("/api/ledgers/l/proof/inclusion/1")
        );
        assert_eq!(server.tiles("l"), "http://h/api/ledgers/l");
    }

    #[test]
    fn links_differ_only_in_where_they_point() {
        let server = Links::Server {
            base: "http://h".into(),
        };
        assert_eq!(server.page("l", Some("seq:3")), "/ledgers/l?as_of=seq:3");
        assert_eq!(STATIC.page("l", Some("season:7")), "as-of-season-7.html");
        assert_eq!(
            server.review("l", 7, "md"),
            "/api/ledgers/l/reviews/7?format=md"
        );
        assert_eq!(STATIC.review("l", 7, "md"), "api/ledgers/l/reviews/7.md");
        assert_eq!(
            server.graph("l", "mmd"),
            "/api/ledgers/l/graph?format=mermaid"
        );
        assert_eq!(
            server.absolute(&server.events("l")),
            "http://h/api/ledgers/l/events"
        );
        assert_eq!(STATIC.absolute("x"), "x");
        assert_eq!(
            server.decisions("l", Some("season:7")),
            "/ledgers/l/decisions?as_of=season:7"
        );
        assert_eq!(
            STATIC.decisions("l", Some("season:7")),
            "decisions-as-of-season-7.html"
        );
        assert_eq!(STATIC.decisions("l", None), "decisions.html");
        assert_eq!(server.decisions_json("l", None), "/api/ledgers/l/decisions");
        assert_eq!(
            server.decisions_graph("l", Some("season:7"), "mmd"),
            "/api/ledgers/l/graph?decisions=true&format=mermaid&as_of=season:7"
        );
        assert_eq!(
            STATIC.decisions_graph("l", Some("season:7"), "svg"),
            "api/ledgers/l/decisions-graph-as-of-season-7.svg"
        );
        assert_eq!(
            STATIC.bodies_json("l", Some("season:7")),
            "api/ledgers/l/bodies-as-of-season-7.json"
        );
    }
}
