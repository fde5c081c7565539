// Sign in and sign up. Errors from the API appear next to the field they name.

import { api } from "../api.js";
import { $, busy, clearErrors, formValues, showErrors } from "../dom.js";

export function initAuth({ onSignedIn }) {
  const signin = $("#signin-form");
  const signup = $("#signup-form");

  const show = (form) => {
    signin.hidden = form !== signin;
    signup.hidden = form !== signup;
    clearErrors(form);
    form.querySelector("input")?.focus();
  };
  $("#show-signup").addEventListener("click", () => show(signup));
  $("#show-signin").addEventListener("click", () => show(signin));

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
      showErrors(signin, error);
    }
  });

  signup.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(signup);
    clearErrors(signup);
    const fields = { username: values.username, password: values.password };
    if (values.display_name) fields.display_name = values.display_name;
    if (values.email) fields.email = values.email;
    try {
      const user = await busy(signup, async () => {
        await api.register(fields);
        return api.login(values.username, values.password);
      });
      signup.reset();
      show(signin);
      onSignedIn(user);
    } catch (error) {
      showErrors(signup, error);
    }
  });

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
