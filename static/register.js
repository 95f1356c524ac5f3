// Register page, progressive enhancement: positions 3–4 of the credit code (GB/T 2260 region,
// 51 Sichuan, 50 Chongqing) pre-select the province, and a province chosen against the code is
// warned about. Without JavaScript the server refuses the mismatch with the same message.
(function () {
  var code = document.getElementById("org_credit_code");
  var province = document.getElementById("org_province");
  var warning = document.getElementById("org_province_warning");
  if (!code || !province || !warning) return;
  var full = /[\uFF10-\uFF19]/g;
  function named() {
    var text = code.value.trim().replace(full, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    });
    var region = text.slice(2, 4);
    return region === "51" ? "sichuan" : region === "50" ? "chongqing" : null;
  }
  function check() {
    var p = named();
    var wrong = p !== null && province.value !== p;
    warning.hidden = !wrong;
    warning.textContent = wrong ? warning.getAttribute("data-" + p) : "";
    if (wrong) province.setAttribute("aria-invalid", "true");
    else province.removeAttribute("aria-invalid");
  }
  code.addEventListener("input", function () {
    var p = named();
    if (p !== null && code.value.trim().length >= 4) province.value = p;
    check();
  });
  province.addEventListener("change", check);
})();
