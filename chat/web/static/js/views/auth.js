// Sign in, sign up, and confirming an email with the code the server mailed (when it
// runs with EMAIL_VERIFICATION on). Errors from the API appear next to the field they
// name.

import { api } from "../api.js";
import { $, busy, clearErrors, formValues, showErrors } from "../dom.js";

export function initAuth({ onSignedIn }) {
  const signin = $("#signin-form");
  const signup = $("#signup-form");
  const verify = $("#verify-form");
  // The credentials of an account waiting for its code, kept in memory only while the
  // code form is up, so that a correct code signs straight in.
  let waiting = null;
  let countdown = null;

  const show = (form) => {
    for (const each of [signin, signup, verify]) each.hidden = each !== form;
    if (form !== verify) waiting = null;
    clearErrors(form);
    form.querySelector("input:not([type=hidden])")?.focus();
  };
  $("#show-signup").addEventListener("click", () => show(signup));
  $("#show-signin").addEventListener("click", () => show(signin));
  $("#verify-back").addEventListener("click", () => show(signin));

  /** The code form, for an account refused with 403 `unverified`. */
  const askForCode = ({ email, login, password }) => {
    verify.reset();
    show(verify);
    waiting = { login, password };
    $("#verify-email").value = email || "";
    $("#verify-intro").textContent = email
      ? `We mailed a 6-digit code to ${email}. Enter it to finish signing in.`
      : "This account's email is not confirmed yet. Enter your email and the 6-digit code we mailed to it.";
    $("#resend-status").textContent = "";
    (email ? $("#verify-code") : $("#verify-email")).focus();
  };

  signin.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { username, password } = formValues(signin);
    clearErrors(signin);
    const missing = {};
    if (!username) missing.username = ["Enter your username or email."];
    if (!password) missing.password = ["Enter your password."];
    if (Object.keys(missing).length) return showErrors(signin, { errors: missing });
    try {
      const user = await busy(signin, () => api.login(username, password));
      signin.reset();
      onSignedIn(user);
    } catch (error) {
      if (error.code === "unverified") {
        signin.reset();
        askForCode({ email: username.includes("@") ? username : "", login: username, password });
      } else showErrors(signin, error);
    }
  });

  signup.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(signup);
    clearErrors(signup);
    const fields = { username: values.username, password: values.password };
    if (values.display_name) fields.display_name = values.display_name;
    if (values.email) fields.email = values.email;
    let registered = false;
    try {
      const user = await busy(signup, async () => {
        await api.register(fields);
        registered = true;
        return api.login(values.username, values.password);
      });
      signup.reset();
      show(signin);
      onSignedIn(user);
    } catch (error) {
      if (registered && error.code === "unverified") {
        signup.reset();
        askForCode({ email: values.email, login: values.username, password: values.password });
      } else showErrors(signup, error);
    }
  });

  verify.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { email, code } = formValues(verify);
    clearErrors(verify);
    const missing = {};
    if (!email) missing.email = ["Enter the email the code was sent to."];
    if (!/^\d{6}$/.test(code)) missing.code = ["Enter the 6 digits of the code."];
    if (Object.keys(missing).length) return showErrors(verify, { errors: missing });
    try {
      await busy(verify, () => api.verify(email, code));
    } catch (error) {
      // 409: confirmed already (in another tab, say): signing in is what is left.
      if (error.status !== 409) return showErrors(verify, error);
    }
    const credentials = waiting;
    if (!credentials) {
      show(signin);
      signin.querySelector('[data-error-for="_form"]').textContent = "Email confirmed: sign in.";
      return;
    }
    try {
      const user = await busy(verify, () => api.login(credentials.login, credentials.password));
      show(signin);
      onSignedIn(user);
    } catch (error) {
      show(signin);
      showErrors(signin, error);
    }
  });

  $("#resend-button").addEventListener("click", async () => {
    const email = $("#verify-email").value.trim();
    const status = $("#resend-status");
    clearErrors(verify);
    status.textContent = "";
    if (!email) return showErrors(verify, { errors: { email: ["Enter your email first."] } });
    const button = $("#resend-button");
    button.disabled = true;
    try {
      await api.resendCode(email);
      status.textContent = `A new code is on its way to ${email}; the old one no longer works.`;
      button.disabled = false;
    } catch (error) {
      if (error.status === 429 && error.retryAfter) wait(error.retryAfter);
      else {
        button.disabled = false;
        if (error.errors) showErrors(verify, error);
        else status.textContent = error.message;
      }
    }
  });

  /** Too soon for another code: the button waits out the server's Retry-After. */
  function wait(seconds) {
    const button = $("#resend-button");
    const status = $("#resend-status");
    const until = Date.now() + seconds * 1000;
    clearInterval(countdown);
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(countdown);
        button.disabled = false;
        status.textContent = "You can ask for a new code now.";
        return;
      }
      button.disabled = true;
      status.textContent = `A code was sent moments ago: you can ask for another in ${left} s.`;
    };
    tick();
    countdown = setInterval(tick, 1000);
  }

  return {
    show(message) {
      $("#auth-view").hidden = false;
      show(signin);
      if (message) signin.querySelector('[data-error-for="_form"]').textContent = message;
    },
    hide() {
      $("#auth-view").hidden = true;
    },
  };
}
