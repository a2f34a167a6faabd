//! The review a page at a time ([`ReviewFold`]) and rendered around its streamed status
//! changes ([`ReviewFrame`]) is the review [`review`] computes and renders in one piece,
//! byte for byte, in all three formats and for every page size; and a page fails with
//! the error the whole range gives.

mod common;

use common::{governance_ledger, ledger, set, Ledger};
use waymark_events::{Event, Hash};
use waymark_projections::{
    review, HistoryRow, ReviewError, ReviewFold, ReviewFormat, ReviewFrame, SeasonReview,
};

const FORMATS: [ReviewFormat; 3] = [
    ReviewFormat::Markdown,
    ReviewFormat::Html,
    ReviewFormat::Json,
];

/// The review of `season` over `from..=to` folded in pages of `page` events, rendered in
/// `format` with its changes streamed from `rows`.
fn streamed(
    l: &Ledger,
    season: i64,
    (from, to): (usize, usize),
    page: usize,
    format: ReviewFormat,
) -> String {
    let (events, rows) = l.range(from, to);
    let mut fold = ReviewFold::new(season, l.at(from), l.at(to));
    for (e, r) in events.chunks(page).zip(rows.chunks(page)) {
        fold.push(e, r).unwrap();
    }
    let folded = fold.finish().unwrap();
    assert!(
        folded.review.status_changes.is_empty(),
        "the fold keeps no change"
    );
    let frame = ReviewFrame::of(&folded.review, folded.status_changes, format);
    let mut out = frame.head.clone();
    let changes = rows
        .iter()
        .filter(|r| r.event_type == "MilestoneStatusChanged");
    for (i, row) in changes.enumerate() {
        out.push_str(&frame.change(row, i == 0));
    }
    out + &frame.tail
}

/// What the CLI printed before: `to_markdown`, `to_html`, the pretty serde form.
fn whole(r: &SeasonReview, format: ReviewFormat) -> String {
    match format {
        ReviewFormat::Markdown => r.to_markdown(),
        ReviewFormat::Html => r.to_html(),
        ReviewFormat::Json => serde_json::to_string_pretty(r).unwrap() + "\n",
    }
}

#[test]
fn streamed_reviews_are_the_whole_reviews_bytes_for_every_page_size() {
    let plain = ledger();
    let governance = governance_ledger();
    // Closed and open seasons with status changes, and one with section 13 (none).
    let cases: [(&Ledger, i64, (usize, usize)); 3] = [
        (&plain, 7, (10, 20)),
        (&plain, 7, (10, 16)),
        (&governance, 8, (29, 38)),
    ];
    for (l, season, (from, to)) in cases {
        let (events, rows) = l.range(from, to);
        let r = review(season, l.at(from), l.at(to), events, rows).unwrap();
        assert_eq!(r.status_changes.is_empty(), r.decision_authority.is_some());
        for format in FORMATS {
            let expected = whole(&r, format);
            assert_eq!(r.render(format), expected, "{format:?}");
            for page in [1, 2, 3, 4, 7, events.len()] {
                assert_eq!(
                    streamed(l, season, (from, to), page, format),
                    expected,
                    "season {season} to {to}, {format:?}, pages of {page}"
                );
            }
        }
    }
}

#[test]
fn a_season_without_status_changes_streams_none() {
    let l = ledger();
    let (events, rows) = l.range(10, 20);
    let mut r = review(7, l.at(10), l.at(20), events, rows).unwrap();
    r.status_changes.clear();
    for format in FORMATS {
        let frame = ReviewFrame::of(&r, 0, format);
        assert_eq!(frame.head.clone() + &frame.tail, whole(&r, format));
    }
    assert!(r
        .to_markdown()
        .contains("## Every status change\n\nNone.\n"));
}

#[test]
fn a_page_fails_as_the_whole_range_does() {
    let l = ledger();
    let (events, rows) = l.range(10, 20);
    let paged = |events: &[(Event, Hash)], rows: &[HistoryRow], end: usize| {
        let mut fold = ReviewFold::new(7, l.at(10), l.at(end));
        for (e, r) in events.chunks(3).zip(rows.chunks(3)) {
            fold.push(e, r)?;
        }
        fold.finish().map(|f| f.review)
    };
    // A row of another event, in the third page.
    let mut wrong = rows.to_vec();
    wrong[7].hash = wrong[6].hash;
    assert_eq!(
        paged(events, &wrong, 20),
        Err(ReviewError::RowsMismatch { index: 7 })
    );
    assert_eq!(
        review(7, l.at(10), l.at(20), events, &wrong),
        Err(ReviewError::RowsMismatch { index: 7 })
    );
    // A gap across pages.
    let gappy: Vec<(Event, Hash)> = events
        .iter()
        .filter(|(e, _)| e.seq != 13)
        .cloned()
        .collect();
    let gappy_rows: Vec<HistoryRow> = rows.iter().filter(|r| r.seq != 13).cloned().collect();
    assert_eq!(
        paged(&gappy, &gappy_rows, 20),
        Err(ReviewError::Gap {
            expected: 13,
            found: 14
        })
    );
    // The season's close followed by another event, in the next page.
    let mut longer = ledger();
    longer.push(
        "foundation",
        set("T-B1", "in_progress", "blocked", "late", &[]),
    );
    let (more, more_rows) = longer.range(10, 21);
    assert_eq!(
        review(7, longer.at(10), longer.at(21), more, more_rows),
        Err(ReviewError::SeasonBoundary { seq: 20 })
    );
    let mut fold = ReviewFold::new(7, longer.at(10), longer.at(21));
    fold.push(&more[..11], &more_rows[..11]).unwrap();
    assert_eq!(
        fold.push(&more[11..], &more_rows[11..]),
        Err(ReviewError::SeasonBoundary { seq: 20 })
    );
    // The end status must be the last event's.
    assert_eq!(
        paged(events, rows, 19),
        Err(ReviewError::StatusMismatch {
            which: "end",
            seq: 20
        })
    );
    assert_eq!(
        ReviewFold::new(7, l.at(10), l.at(20)).finish(),
        Err(ReviewError::NoEvents)
    );
}
