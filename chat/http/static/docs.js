// Starts Swagger UI on /openapi.json; a file of its own so the page needs no inline script.
"use strict";
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.dataset.specUrl,
    domNode: node,
    deepLinking: true,
  });
});
