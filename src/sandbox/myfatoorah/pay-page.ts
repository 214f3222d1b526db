import { toDecimalString } from '../../money.js';
import { formatHuman } from './dates.js';
import type { SandboxInvoice } from './state.js';

/**
 * HTML for the sandbox's customer-facing pages: the invoice (pay) page in English or Arabic, the
 * result page used when no CallBackUrl/ErrorUrl was given, the index, and the canned infrastructure
 * error pages used by faults. Plain server-rendered HTML with inline CSS: no assets to serve.
 */

type Language = 'en' | 'ar';

const TEXT = {
  en: {
    title: 'Invoice',
    customer: 'Customer',
    amount: 'Amount',
    expires: 'Expires',
    status: 'Status',
    pay: 'Pay',
    fail: 'Fail (simulate a decline)',
    expired: 'This invoice has expired.',
    canceled: 'This invoice has been canceled.',
    paid: 'This invoice has been paid. Thank you!',
    pending: 'Awaiting payment',
    thanks: 'Thank you! Your payment was received.',
    declined: 'The payment was declined. You may try again.',
    paymentId: 'Payment ID',
    back: 'Back to the invoice',
    sandbox: 'MyFatoorah sandbox — no real money moves.',
  },
  ar: {
    title: 'فاتورة',
    customer: 'العميل',
    amount: 'المبلغ',
    expires: 'تنتهي في',
    status: 'الحالة',
    pay: 'ادفع',
    fail: 'فشل (محاكاة رفض)',
    expired: 'انتهت صلاحية هذه الفاتورة.',
    canceled: 'تم إلغاء هذه الفاتورة.',
    paid: 'تم دفع هذه الفاتورة. شكراً لك!',
    pending: 'بانتظار الدفع',
    thanks: 'شكراً لك! تم استلام دفعتك.',
    declined: 'تم رفض عملية الدفع. يمكنك المحاولة مرة أخرى.',
    paymentId: 'رقم الدفع',
    back: 'العودة إلى الفاتورة',
    sandbox: 'بيئة تجريبية لماي فاتورة — لا تتم أي عملية دفع حقيقية.',
  },
} as const;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function layout(lang: Language, title: string, body: string): string {
  const dir = lang === 'ar' ? 'rtl' : 'ltr';
  return `<!doctype html>
<html lang="${lang}" dir="${dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Tahoma, sans-serif; background: #f3f5f8; color: #1d2733; margin: 0; }
  main { max-width: 28rem; margin: 3rem auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .5rem 1rem; }
  dt { color: #5b6b7c; } dd { margin: 0; font-weight: 600; }
  .amount { font-size: 1.6rem; }
  .note { padding: .75rem 1rem; border-radius: 8px; background: #eef3f8; }
  .buttons { display: flex; gap: .75rem; margin-top: 1.5rem; }
  .buttons form { flex: 1; }
  button { width: 100%; font-size: 1rem; padding: .75rem; border: 0; border-radius: 8px; cursor: pointer; }
  .pay { background: #0a7d46; color: #fff; } .fail { background: #e8ecf0; color: #8a1c1c; }
  footer { margin-top: 2rem; font-size: .8rem; color: #7a8794; }
  table { border-collapse: collapse; width: 100%; } td, th { padding: .4rem; border-bottom: 1px solid #e3e8ee; text-align: start; }
</style>
</head>
<body><main>
${body}
<footer>${escapeHtml(TEXT[lang].sandbox)}</footer>
</main></body>
</html>`;
}

/** "250.500 KWD" — the currency's own number of decimals. */
export function formatAmount(invoice: SandboxInvoice): string {
  return `${toDecimalString(invoice.valueMinor, invoice.currency)} ${invoice.currency}`;
}

export interface InvoicePageContext {
  timeZone: string;
  expired: boolean;
}

/** The page behind InvoiceURL. Pay/Fail buttons only while the invoice can still be paid. */
export function invoicePage(invoice: SandboxInvoice, ctx: InvoicePageContext): string {
  const t = TEXT[invoice.language];
  const paid = invoice.status === 'Paid' || invoice.status === 'DuplicatePayment';
  const notice = invoice.status === 'Canceled' ? t.canceled : paid ? t.paid : ctx.expired ? t.expired : null;
  const statusLabel = notice ?? t.pending;
  const buttons = notice
    ? `<p class="note" data-state="closed">${escapeHtml(notice)}</p>`
    : `<div class="buttons">
  <form method="post" action="/pay/${invoice.id}/pay"><button class="pay" type="submit">${escapeHtml(t.pay)}</button></form>
  <form method="post" action="/pay/${invoice.id}/fail"><button class="fail" type="submit">${escapeHtml(t.fail)}</button></form>
</div>`;
  const body = `<h1>${escapeHtml(t.title)} #${invoice.id}</h1>
<dl>
  <dt>${escapeHtml(t.customer)}</dt><dd>${escapeHtml(invoice.customerName)}</dd>
  <dt>${escapeHtml(t.amount)}</dt><dd class="amount" dir="ltr">${escapeHtml(formatAmount(invoice))}</dd>
  <dt>${escapeHtml(t.expires)}</dt><dd dir="ltr">${escapeHtml(formatHuman(invoice.expiresAt, ctx.timeZone))} (${escapeHtml(ctx.timeZone)})</dd>
  <dt>${escapeHtml(t.status)}</dt><dd>${escapeHtml(statusLabel)}</dd>
</dl>
${buttons}`;
  return layout(invoice.language, `${t.title} #${invoice.id}`, body);
}

/** Where the customer lands after paying when the invoice has no CallBackUrl/ErrorUrl. */
export function resultPage(invoice: SandboxInvoice, paymentId: string): string {
  const t = TEXT[invoice.language];
  const transaction = invoice.transactions.find((candidate) => candidate.paymentId === paymentId);
  const message = transaction?.status === 'Succss' ? t.thanks : t.declined;
  const body = `<h1>${escapeHtml(message)}</h1>
<dl>
  <dt>${escapeHtml(t.amount)}</dt><dd dir="ltr">${escapeHtml(formatAmount(invoice))}</dd>
  <dt>${escapeHtml(t.paymentId)}</dt><dd dir="ltr">${escapeHtml(paymentId)}</dd>
</dl>
<p><a href="/pay/${invoice.id}">${escapeHtml(t.back)}</a></p>`;
  return layout(invoice.language, message, body);
}

/** A short page for refusals and unknown invoices. */
export function messagePage(title: string, message: string, lang: Language = 'en'): string {
  return layout(lang, title, `<h1>${escapeHtml(title)}</h1><p class="note">${escapeHtml(message)}</p>`);
}

/** `GET /`: every invoice with a link to its pay page. */
export function indexPage(invoices: SandboxInvoice[], timeZone: string): string {
  const rows = invoices
    .map(
      (invoice) =>
        `<tr><td><a href="/pay/${invoice.id}">${invoice.id}</a></td><td>${escapeHtml(invoice.reference ?? '—')}</td>` +
        `<td dir="ltr">${escapeHtml(formatAmount(invoice))}</td><td>${escapeHtml(invoice.status)}</td>` +
        `<td dir="ltr">${escapeHtml(formatHuman(invoice.expiresAt, timeZone))}</td></tr>`,
    )
    .join('\n');
  const table =
    invoices.length === 0
      ? '<p class="note">No invoices yet. Create one with POST /v2/SendPayment.</p>'
      : `<table><thead><tr><th>Invoice</th><th>Reference</th><th>Amount</th><th>Status</th><th>Expires</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
  return layout('en', 'MyFatoorah sandbox', `<h1>MyFatoorah sandbox</h1>\n${table}`);
}

/** Infrastructure-style error pages (load balancer / WAF), deliberately not MyFatoorah JSON. */
export function infrastructurePage(status: number, reason: string): string {
  return `<html><head><title>${status} ${escapeHtml(reason)}</title></head><body><center><h1>${status} ${escapeHtml(reason)}</h1></center><hr><center>sandbox-gateway</center></body></html>`;
}
