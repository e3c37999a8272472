//! Fixture catalogues on 127.0.0.1: a static server of prepared pages, and a builder that
//! writes a standard catalogue (root with class links, class pages with a table and 下一页).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::NaiveDate;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use url::Url;

/// One prepared answer.
#[derive(Clone)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Serves prepared pages by path; anything else is a 404.
pub(crate) struct StaticSite {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StaticSite {
    pub(crate) async fn start(pages: HashMap<String, Answer>) -> StaticSite {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind catalogue fixture");
        let addr = listener.local_addr().expect("local address");
        let pages = Arc::new(pages);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, pages.clone()));
            }
        });
        StaticSite { addr, task }
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).expect("fixture url")
    }
}

async fn answer(mut stream: TcpStream, pages: Arc<HashMap<String, Answer>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let not_found = Answer {
        status: 404,
        content_type: "text/html; charset=utf-8".into(),
        body: b"<h1>404</h1>".to_vec(),
    };
    let page = pages.get(&path).cloned().unwrap_or(not_found);
    let reason = if page.status == 200 { "OK" } else { "Not Found" };
    let header = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        page.status,
        page.content_type,
        page.body.len()
    );
    let _ = stream.write_all(header.as_bytes()).await;
    let _ = stream.write_all(&page.body).await;
    let _ = stream.shutdown().await;
}

/// A column of a class page's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Seq,
    Index,
    Title,
    Publisher,
    Date,
    DocNo,
    Topic,
    Genre,
    Service,
}

/// The standard column layout.
pub(crate) fn standard_columns() -> Vec<(String, Col)> {
    [
        ("索引号", Col::Index),
        ("名称", Col::Title),
        ("发布机构", Col::Publisher),
        ("生成日期", Col::Date),
        ("文号", Col::DocNo),
        ("主题分类", Col::Topic),
        ("体裁分类", Col::Genre),
        ("服务对象分类", Col::Service),
    ]
    .map(|(h, c)| (h.to_owned(), c))
    .to_vec()
}

/// One row as the page shows it (blank strings are blank cells).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub index_no: String,
    pub title: String,
    pub publisher: String,
    pub date: String,
    /// The entry page's path (the title links there).
    pub href: String,
}

/// A catalogue to serve under `/{prefix}/`.
#[derive(Debug, Clone)]
pub(crate) struct Catalogue {
    pub prefix: String,
    pub classes: Vec<(String, Vec<Row>)>,
    pub columns: Vec<(String, Col)>,
    pub page_size: usize,
    pub gbk: bool,
}

impl Catalogue {
    /// A catalogue of `classes`, each with `per_class` valid rows for `code`, dated backwards
    /// from `newest` one day apart (serials run on across classes).
    pub(crate) fn complete(
        prefix: &str,
        code: &str,
        classes: &[String],
        per_class: usize,
        newest: NaiveDate,
    ) -> Catalogue {
        let mut serial = 0u32;
        let mut built = Vec::new();
        for class in classes {
            let mut rows = Vec::new();
            for _ in 0..per_class {
                serial += 1;
                let date = newest - chrono::Days::new(u64::from(serial));
                rows.push(row(prefix, code, serial, date, &format!("{class}信息第{serial}号")));
            }
            built.push((class.clone(), rows));
        }
        Catalogue {
            prefix: prefix.into(),
            classes: built,
            columns: standard_columns(),
            page_size: 20,
            gbk: false,
        }
    }

    pub(crate) fn root_path(&self) -> String {
        format!("/{}/index.html", self.prefix)
    }

    pub(crate) fn class_mut(&mut self, name: &str) -> &mut Vec<Row> {
        &mut self.classes.iter_mut().find(|(n, _)| n == name).expect("class in fixture").1
    }

    /// The pages, ready for [`StaticSite::start`].
    pub(crate) fn pages(&self) -> HashMap<String, Answer> {
        let mut pages = HashMap::new();
        let mut root = String::from("<ul class=\"classes\">");
        for (i, (name, _)) in self.classes.iter().enumerate() {
            root.push_str(&format!("<li><a href=\"c{i}/1.html\">{name}</a></li>"));
        }
        root.push_str("</ul>");
        pages.insert(self.root_path(), self.answer("政府信息公开目录", &root));
        for (i, (_, rows)) in self.classes.iter().enumerate() {
            let chunks: Vec<&[Row]> =
                if rows.is_empty() { vec![&[]] } else { rows.chunks(self.page_size).collect() };
            for (p, chunk) in chunks.iter().enumerate() {
                let mut body = String::from(
                    "<table class=\"nav\"><tr><td><a href=\"../index.html\">首页</a></td></tr></table>",
                );
                body.push_str("<table class=\"list\"><tr>");
                for (header, _) in &self.columns {
                    body.push_str(&format!("<th>{header}</th>"));
                }
                body.push_str("</tr>");
                for (n, row) in chunk.iter().enumerate() {
                    body.push_str("<tr>");
                    for (_, col) in &self.columns {
                        let cell = match col {
                            Col::Seq => (p * self.page_size + n + 1).to_string(),
                            Col::Index => row.index_no.clone(),
                            Col::Title => format!("<a href=\"{}\">{}</a>", row.href, row.title),
                            Col::Publisher => row.publisher.clone(),
                            Col::Date => row.date.clone(),
                            Col::DocNo => String::new(),
                            Col::Topic => "综合政务".to_owned(),
                            Col::Genre => "通知".to_owned(),
                            Col::Service => "公众".to_owned(),
                        };
                        body.push_str(&format!("<td>{cell}</td>"));
                    }
                    body.push_str("</tr>");
                }
                body.push_str("</table>");
                if p + 1 < chunks.len() {
                    body.push_str(&format!(
                        "<div class=\"pager\"><a href=\"{}.html\">下一页</a></div>",
                        p + 2
                    ));
                }
                pages.insert(format!("/{}/c{i}/{}.html", self.prefix, p + 1), self.answer("目录", &body));
            }
        }
        pages
    }

    fn answer(&self, title: &str, body: &str) -> Answer {
        if self.gbk {
            let html = format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><title>{title}</title></head><body>{body}</body></html>"
            );
            Answer {
                status: 200,
                content_type: "text/html".into(),
                body: encoding_rs::GBK.encode(&html).0.into_owned(),
            }
        } else {
            let html = format!(
                "<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>{body}</body></html>"
            );
            Answer { status: 200, content_type: "text/html; charset=utf-8".into(), body: html.into_bytes() }
        }
    }
}

/// A valid row for `code`.
pub(crate) fn row(prefix: &str, code: &str, serial: u32, date: NaiveDate, title: &str) -> Row {
    Row {
        index_no: format!("{code}/{}-{serial:05}", date.format("%Y")),
        title: title.to_owned(),
        publisher: "南宁市测试局".to_owned(),
        date: date.format("%Y-%m-%d").to_string(),
        href: format!("/{prefix}/doc/{serial}.html"),
    }
}

/// Serves several catalogues from one server.
pub(crate) async fn serve(catalogues: &[&Catalogue]) -> StaticSite {
    let mut pages = HashMap::new();
    for catalogue in catalogues {
        pages.extend(catalogue.pages());
    }
    StaticSite::start(pages).await
}
