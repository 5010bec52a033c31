// Thread page keyboard shortcuts: j or n -> next message, k or p -> previous message.
// The message is targeted (its #m-KEY anchor, so :target styles it) and focused.
// No effect while typing in a form field or with a modifier key held.
(function () {
  "use strict";
  var list = document.getElementById("thread");
  if (!list) {
    return;
  }
  var items = Array.prototype.slice.call(list.querySelectorAll("li.msg"));
  var hint = document.getElementById("thread-keys");
  if (hint) {
    hint.hidden = false; // the keys work: say so (without JavaScript the hint stays hidden)
  }
  function current() {
    var id = window.location.hash.slice(1);
    for (var i = 0; i < items.length; i++) {
      if (items[i].id === id || items[i].contains(document.activeElement)) {
        return i;
      }
    }
    return -1;
  }
  function go(step) {
    var at = current();
    var next = at < 0 ? (step > 0 ? 0 : items.length - 1) : at + step;
    if (next < 0 || next >= items.length) {
      return;
    }
    var item = items[next];
    window.location.hash = item.id; // scrolls to it and makes it the :target
    items.forEach(function (el) { el.classList.remove("current"); });
    item.classList.add("current");
    var article = item.querySelector("article") || item;
    article.focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) {
      return;
    }
    if (event.key === "j" || event.key === "n") {
      go(1);
      event.preventDefault();
    } else if (event.key === "k" || event.key === "p") {
      go(-1);
      event.preventDefault();
    }
  });
})();
