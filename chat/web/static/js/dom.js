// DOM helpers. Everything the client shows is built with createElement and
// textContent: no HTML string ever reaches the page, so user text cannot become markup.

/** Build an element: h("p", {class: "x", text: "hi", onclick: fn}, child, "text"). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function clear(el) {
  el.replaceChildren();
  return el;
}

// http(s) URLs in message text become links; everything else stays text.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

/** Message text as a fragment of text nodes and safe links. */
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let raw = match[0];
    const trailing = raw.match(TRAILING);
    if (trailing) raw = raw.slice(0, -trailing[0].length);
    const url = safeUrl(raw);
    if (!url) continue;
    if (match.index > last) fragment.append(text.slice(last, match.index));
    fragment.append(
      h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: raw }),
    );
    last = match.index + raw.length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

/** The URL's normalised form if it is http(s), else null. */
export function safeUrl(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

/** "14:05" today, "3 Mar 2026, 14:05" otherwise. */
export function shortTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = new Date().toDateString() === date.toDateString();
  return today ? timeFormat.format(date) : dateTimeFormat.format(date);
}

/** Show the API's per-field `errors` next to their fields in `form`; the rest at the top. */
export function showErrors(form, error) {
  clearErrors(form);
  const fields = error?.errors && typeof error.errors === "object" ? error.errors : {};
  let shownAll = Object.keys(fields).length > 0;
  for (const [field, messages] of Object.entries(fields)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
    if (slot) {
      slot.textContent = text;
      const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
      input?.setAttribute("aria-invalid", "true");
    } else shownAll = false;
  }
  if (!shownAll) {
    const slot = form.querySelector('[data-error-for="_form"]');
    if (slot) slot.textContent = error?.message || "Something went wrong.";
  }
  const firstInvalid = form.querySelector('[aria-invalid="true"]');
  firstInvalid?.focus();
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) {
    input.removeAttribute("aria-invalid");
  }
}

/** The form's named fields as an object of trimmed strings (passwords untrimmed). */
export function formValues(form) {
  const values = {};
  for (const [name, value] of new FormData(form)) {
    const input = form.elements.namedItem(name);
    values[name] = input?.type === "password" ? value : String(value).trim();
  }
  return values;
}

/** Disable a form's controls while `work` runs. */
export async function busy(form, work) {
  const controls = [...form.querySelectorAll("button, input, select, textarea")];
  const was = controls.map((c) => c.disabled);
  controls.forEach((c) => (c.disabled = true));
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    controls.forEach((c, i) => (c.disabled = was[i]));
    form.removeAttribute("aria-busy");
  }
}
