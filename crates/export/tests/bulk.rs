//! The bulk writers on their own: a ZIP with more entries than plain ZIP allows, and one with
//! an entry over 4 GiB made of spliced blocks, open with Info-ZIP's `unzip -t` and Python's
//! zipfile; Parquet parts read back with every row.

use std::io::{self, Write};

use ferry_domain::analytics::VisitorRow;
use ferry_domain::bulk::{Batch, BulkEvent, BulkPageview, BulkSession};
use ferry_domain::export::{DataType, ExportRange, Format};
use ferry_export::Rows;
use ferry_export::bulk::parts::Meter;
use ferry_export::bulk::parts_out::{PartWriter, ZipParts};
use ferry_export::bulk::{Batches, BulkExport, BulkSource};

mod support;
use support::opens_in_unzip_and_python;

#[test]
fn a_zip_of_70000_entries_needs_zip64_and_opens_in_unzip_and_python() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.zip");
    let file = io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut zip = ZipParts::new(file, 1);
    for i in 0..70_000u32 {
        zip.begin(&format!("part-{i:05}.csv"), true).unwrap();
        zip.write(format!("n\r\n{i}\r\n").into_bytes()).unwrap();
        zip.end().unwrap();
    }
    let (mut out, files) = zip
        .finish(|files| {
            Ok((
                "manifest.json".into(),
                format!("{}", files.len()).into_bytes(),
            ))
        })
        .unwrap();
    out.flush().unwrap();
    drop(out);
    assert_eq!(files.len(), 70_001);

    let printed = opens_in_unzip_and_python(
        &path,
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(len(z.namelist()), z.read('part-69999.csv').decode().split()[1], z.read('manifest.json').decode())",
    );
    assert_eq!(printed, "70001 69999 70000");
}

/// Rows made up in memory: `n` page views, no other data.
struct Made {
    pageviews: usize,
}

impl BulkSource for Made {
    fn pageviews(&mut self) -> io::Result<Batches<'_, BulkPageview>> {
        let batches = (0..self.pageviews).collect::<Vec<_>>();
        Ok(Box::new(
            batches
                .chunks(1000)
                .map(|chunk| {
                    let mut batch = Batch::with_capacity(chunk.len());
                    for i in chunk {
                        let url = batch.span(Some(&format!("https://shop.example/p/{i}")));
                        let visitor_id = batch.span(Some(&format!("v{}", i % 17)));
                        let (title, referrer) = (batch.span(None), batch.span(None));
                        let device = batch.span(Some("desktop"));
                        let browser = batch.span(Some("Firefox"));
                        let country = batch.span(Some("DE"));
                        batch.rows.push(BulkPageview {
                            timestamp: 1_700_000_000_000 + *i as i64 * 1000,
                            url,
                            title,
                            referrer,
                            device,
                            browser,
                            country,
                            visitor_id,
                            session: (*i / 10) as i64,
                        });
                    }
                    Ok(batch)
                })
                .collect::<Vec<_>>()
                .into_iter(),
        ))
    }

    fn events(&mut self) -> io::Result<Batches<'_, BulkEvent>> {
        Ok(Box::new(std::iter::empty()))
    }

    fn event_keys(&mut self) -> io::Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn sessions(&mut self) -> io::Result<Batches<'_, BulkSession>> {
        Ok(Box::new(std::iter::empty()))
    }

    fn visitors(&mut self) -> io::Result<Rows<'_, VisitorRow>> {
        Ok(Box::new(std::iter::empty()))
    }

    fn summary(&mut self) -> io::Result<serde_json::Value> {
        Ok(serde_json::json!({}))
    }
}

#[test]
fn parquet_parts_read_back_with_every_row() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let dir = tempfile::tempdir().unwrap();
    let meter = Meter::new(None);
    let export = BulkExport {
        export_id: "exp_test",
        generated_at: "2024-01-01T00:00:00Z",
        website_id: "web_test",
        domain: "shop.example",
        time_zone: "UTC",
        data_types: &[DataType::Pageviews, DataType::Events],
        format: Format::Parquet,
        range: ExportRange::default(),
        part_size: 200_000,
        neutralise: true,
        encrypted_to: None,
        meter: &meter,
    };
    let (files, counts) = export
        .write_dir(dir.path(), false, &mut Made { pageviews: 150_000 })
        .unwrap();
    assert_eq!(counts["pageviews"], 150_000);
    assert_eq!(counts["events"], 0);
    let parts: Vec<_> = files
        .iter()
        .filter(|f| f.name.starts_with("pageviews-"))
        .collect();
    assert!(parts.len() >= 2, "split into parts: {:?}", files);
    let mut rows = 0;
    let mut last_url = String::new();
    for part in parts {
        let file = std::fs::File::open(dir.path().join(&part.name)).unwrap();
        for batch in ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
        {
            let batch = batch.unwrap();
            rows += batch.num_rows();
            let urls = batch.column_by_name("url").unwrap();
            let urls = urls
                .as_any()
                .downcast_ref::<arrow_array::StringArray>()
                .unwrap();
            last_url = urls.value(arrow_array::Array::len(urls) - 1).to_string();
        }
    }
    assert_eq!(rows, 150_000);
    assert_eq!(last_url, "https://shop.example/p/149999");
    let events = std::fs::read(dir.path().join("events-00001.parquet")).unwrap();
    assert_eq!(
        &events[..4],
        b"PAR1",
        "an empty data type is still a valid file"
    );
}

#[test]
fn a_cancelled_export_stops_with_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let meter = Meter::new(None);
    meter
        .cancelled
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let export = BulkExport {
        export_id: "exp_test",
        generated_at: "2024-01-01T00:00:00Z",
        website_id: "web_test",
        domain: "shop.example",
        time_zone: "UTC",
        data_types: &[DataType::Pageviews],
        format: Format::Csv,
        range: ExportRange::default(),
        part_size: 1_000_000,
        neutralise: true,
        encrypted_to: None,
        meter: &meter,
    };
    let error = export
        .write_dir(dir.path(), false, &mut Made { pageviews: 5_000 })
        .unwrap_err();
    assert!(
        error
            .get_ref()
            .is_some_and(|e| e.is::<ferry_export::bulk::parts::Cancelled>()),
        "{error}"
    );
    assert!(
        meter.rows.load(std::sync::atomic::Ordering::Relaxed) < 5_000,
        "stopped early"
    );
}

#[test]
fn an_entry_over_4_gib_of_spliced_blocks_opens_in_unzip_and_python() {
    use ferry_export::bulk::segment::Block;
    use ferry_export::package::deflate::deflate_block;
    // One 1 MiB block of rows, deflated once and spliced 4,200 times: a 4.1 GiB entry whose
    // sizes need ZIP64, written in seconds and a few megabytes.
    let row = b"2024-05-01T10:00:00Z,https://shop.example/p/1,Product 1,,desktop,Firefox,DE,v1,sess_1\r\n";
    let raw: Vec<u8> = row
        .iter()
        .copied()
        .cycle()
        .take(row.len() * 12_000)
        .collect();
    let block = Block {
        deflated: deflate_block(&raw, 1).unwrap(),
        raw,
        rows: 12_000,
        csv: true,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.zip");
    let file = io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut zip = ZipParts::new(file, 1);
    zip.begin("pageviews-00001.csv", true).unwrap();
    zip.write(b"timestamp,url\r\n".to_vec()).unwrap();
    for _ in 0..4_200 {
        zip.write_block(block.clone()).unwrap();
    }
    zip.write(b"last,row\r\n".to_vec()).unwrap();
    zip.end().unwrap();
    let (mut out, files) = zip
        .finish(|_| Ok(("manifest.json".into(), b"{}".to_vec())))
        .unwrap();
    out.flush().unwrap();
    drop(out);
    let size = 15 + 4_200 * block.raw.len() as u64 + 10;
    assert!(size > 1 << 32);
    assert_eq!(files[0].bytes, size);

    let printed = opens_in_unzip_and_python(
        &path,
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\ni = z.getinfo('pageviews-00001.csv')\nwith z.open(i) as f:\n    f.seek(i.file_size - 10)\n    tail = f.read()\nassert z.testzip() is None\nprint(i.file_size, tail.decode().strip())",
    );
    assert_eq!(printed, format!("{size} last,row"));
}
