import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** What hono/html's tagged template gives back (sync when every interpolated value is sync). */
export type Html = ReturnType<typeof html>;

/** A one-time message after a page action (stored in a 60-second cookie). */
export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

/** What `page()` wraps in the admin chrome. */
export interface PageOptions {
  title: string;
  body: Html;
  flash?: Flash | null;
  /** When set, the header shows the navigation and a sign-out button (carrying this CSRF token). */
  session?: { csrf: string | null } | null;
}

/**
 * Our own pages load nothing from anywhere: no scripts at all, inline styles only. bull-board has its
 * own page and is not covered by this policy.
 */
const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS = `
:root{--ink:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;--accent:#2454c5;
--paid:#2f8f5b;--open:#d9a21b;--expired:#c2452d;--failed:#b42318;--void:#98a2b3}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Noto Sans Arabic","Liberation Sans","DejaVu Sans",sans-serif}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.wrap{max-width:1160px;margin:0 auto;padding:0 24px}
header.top{background:#111827;color:#fff}
header.top .wrap{display:flex;align-items:center;gap:24px;height:52px}
header.top .brand{color:#fff;font-weight:700;font-size:16px;letter-spacing:.2px}
header.top nav{display:flex;gap:16px;flex:1}
header.top nav a{color:#cbd2dc}header.top nav a:hover{color:#fff}
header.top form{margin:0}
header.top button{background:none;border:1px solid #475467;color:#cbd2dc;border-radius:6px;padding:4px 10px;cursor:pointer}
main.wrap{padding-top:28px;padding-bottom:48px}
h1{font-size:22px;margin:0}h2{font-size:16px;margin:0 0 12px}
.sub{color:var(--muted);margin:4px 0 0}
.titlebar{display:flex;align-items:flex-end;justify-content:space-between;gap:16px;margin-bottom:20px}
.pager a{display:inline-block;border:1px solid var(--line);background:var(--card);border-radius:6px;padding:4px 10px;margin-left:6px;color:var(--ink)}
.list-pager{display:flex;align-items:center;justify-content:flex-end;gap:4px;margin-top:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin-bottom:20px}
.flash{border-radius:8px;padding:10px 14px;margin-bottom:16px;border:1px solid}
.flash.ok{background:#ecfdf3;border-color:#abefc6;color:#067647}.flash.error{background:#fef3f2;border-color:#fecdca;color:#b42318}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px;margin-bottom:20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px}
.card .cur{color:var(--muted);font-weight:600;font-size:12px;letter-spacing:.6px}
.card .big{font-size:26px;font-weight:650;margin:4px 0 0;font-variant-numeric:tabular-nums}
.card .of{color:var(--muted);font-variant-numeric:tabular-nums}
.bar{height:8px;border-radius:4px;background:#eef0f3;overflow:hidden;margin:12px 0 10px;display:flex}
.bar span{display:block;height:100%}
.counts{display:flex;gap:14px;flex-wrap:wrap;color:var(--muted);font-size:13px}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:5px;vertical-align:1px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:8px 32px}
.chart h3{font-size:13px;margin:0 0 4px;color:var(--muted);font-weight:600}
.chart svg{width:100%;height:auto;display:block}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.4px;padding:8px 10px;border-bottom:1px solid var(--line)}
td{padding:9px 10px;border-bottom:1px solid var(--line);vertical-align:top}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{text-align:left;font-weight:550;min-width:230px}
td.reason{color:var(--failed);font-size:13px;max-width:300px}
.muted{color:var(--muted)}.small{font-size:12px}.nowrap{white-space:nowrap}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap}
.b-paid{background:#e7f6ed;color:#1e6b42}.b-invoiced,.b-open,.b-creating{background:#fdf5dd;color:#8a6100}
.b-expired{background:#fdece8;color:#a53a24}.b-failed{background:#fee4e2;color:#b42318}
.b-void,.b-scheduled,.b-canceled{background:#f2f4f7;color:#475467}
.actions{display:flex;gap:6px;flex-wrap:nowrap;align-items:flex-start}
td.act{width:1%;white-space:nowrap}
.actions form{margin:0}
button.btn{border:1px solid var(--line);background:#fff;border-radius:6px;padding:4px 10px;font:inherit;font-size:13px;cursor:pointer;color:var(--ink)}
button.btn:hover{border-color:#98a2b3}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{color:var(--failed)}
details.void summary{list-style:none;cursor:pointer;border:1px solid var(--line);border-radius:6px;padding:4px 10px;font-size:13px;color:var(--failed)}
details.void summary::-webkit-details-marker{display:none}
details.void[open] form{display:flex;gap:6px;margin-top:6px}
input[type=text],input[type=password]{border:1px solid #d0d5dd;border-radius:6px;padding:5px 8px;font:inherit}
.empty{color:var(--muted);padding:8px 0}
dl.facts{display:grid;grid-template-columns:160px 1fr;gap:6px 16px;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
pre.details{margin:0;font-size:12px;white-space:pre-wrap;word-break:break-word;color:#344054}
.login{max-width:380px;margin:12vh auto;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:28px}
.login h1{margin-bottom:6px}.login label{display:block;margin:18px 0 6px;font-weight:600}
.login input{width:100%;padding:8px 10px}.login button{margin-top:16px;width:100%;padding:8px}
.login .error{color:var(--failed);margin-top:12px}
`;

/** The HTML document around every admin page (UTF-8, so Arabic names arrive intact). */
export function document(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · rentlink</title>
<style>${raw(CSS) /* a constant: escaping would turn its quotes into &quot;, which <style> never decodes */}</style></head>
<body>${body}</body></html>`;
}

/** An admin page: header with navigation and sign-out, optional flash message, then the body. */
export function page(options: PageOptions): Html {
  const header = options.session
    ? html`<header class="top"><div class="wrap"><a class="brand" href="/admin">rentlink</a>
<nav><a href="/admin">Collection</a><a href="/admin/queues">Queues</a><a href="/metrics">Metrics</a></nav>
${options.session.csrf === null ? '' : html`<form method="post" action="/admin/logout"><button type="submit">Sign out</button></form>`}
</div></header>`
    : '';
  const flash = options.flash
    ? html`<div class="flash ${options.flash.kind}" role="status">${options.flash.text}</div>`
    : '';
  return document(options.title, html`${header}<main class="wrap">${flash}${options.body}</main>`);
}

/** Hidden CSRF field for forms posted with the session cookie (omitted for Bearer callers). */
export function csrfField(csrf: string | null): Html | string {
  return csrf === null ? '' : html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

/** Sends one of our pages with its Content-Security-Policy. */
export function sendPage(c: Context, content: Html, status: ContentfulStatusCode = 200): Response | Promise<Response> {
  c.header('Content-Security-Policy', PAGE_CSP);
  return c.html(content, status);
}
