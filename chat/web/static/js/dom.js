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

/** Show the API's per-field `errors` next to their fields in `form`; the rest at the top,
 * or beside `field` when the error names none (a 403 "The password is wrong."). */
export function showErrors(form, error, field = null) {
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
    const named = field && !Object.keys(fields).length;
    const slot = form.querySelector(`[data-error-for="${named ? CSS.escape(field) : "_form"}"]`);
    if (slot) slot.textContent = error?.message || "Something went wrong.";
    if (named) form.querySelector(`[name="${CSS.escape(field)}"]`)?.setAttribute("aria-invalid", "true");
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

/** A button that asks once more before it acts (no window.confirm: it blocks the page).
 * `name` (optional) is the accessible name before and while asking, when the visible
 * label alone would be ambiguous ("Remove" in a list of people). */
export function confirmButton(button, label, asking, action, name = null) {
  let timer = null;
  const show = (text, accessible) => {
    button.textContent = text;
    if (accessible) button.setAttribute("aria-label", accessible);
  };
  show(label, name?.label);
  button.addEventListener("click", () => {
    if (!button.classList.contains("confirming")) {
      button.classList.add("confirming");
      show(asking, name?.asking);
      timer = setTimeout(() => {
        button.classList.remove("confirming");
        show(label, name?.label);
      }, 4000);
      return;
    }
    clearTimeout(timer);
    button.classList.remove("confirming");
    show(label, name?.label);
    action();
  });
  return button;
}

// -- avatars ----------------------------------------------------------------------

/** An avatar URL the page may load: http(s) only, and under this page's
 * Content-Security-Policy (img-src 'self' https:) an https address or one of this
 * origin. Anything else gets the lettered placeholder. */
export function avatarSource(raw) {
  if (!raw) return null;
  const url = safeUrl(raw);
  if (!url) return null;
  const parsed = new URL(url);
  return parsed.protocol === "https:" || parsed.origin === window.location.origin ? url : null;
}

/** The user's picture as an <img>, or their initial on a colour of their own; a
 * picture that fails to load falls back to the initial. Decorative: the name is
 * always written beside it. */
export function avatar(user, size = "medium") {
  const name = user?.display_name || user?.username || "?";
  const letter = [...name.trim()][0]?.toUpperCase() ?? "?";
  const placeholder = h("span", {
    class: `avatar avatar-${size} avatar-letter avatar-c${hue(user?.id ?? name)}`,
    "aria-hidden": "true",
    text: letter,
  });
  const source = avatarSource(user?.avatar_url);
  if (!source) return placeholder;
  const img = h("img", {
    class: `avatar avatar-${size}`,
    src: source,
    alt: "",
    loading: "lazy",
    referrerpolicy: "no-referrer",
    decoding: "async",
  });
  img.addEventListener("error", () => img.replaceWith(placeholder), { once: true });
  return img;
}

/** One of eight colours, the same for the same id everywhere. */
function hue(key) {
  let sum = 0;
  for (const char of String(key)) sum = (sum * 31 + char.codePointAt(0)) >>> 0;
  return sum % 8;
}
