/* nnscratch.viz: the step-through and the expandable module boxes. Plain JavaScript, no library,
   no network: each page or notebook cell holds one root element and calls nnscratchViz.init(root). */
var nnscratchViz = window.nnscratchViz || (function () {
  "use strict";

  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  function initViews(root) {
    var views = all(root, ".nnscratch-view");
    if (views.length < 2) { return; }
    function show(name) {
      var found = views.some(function (v) { return v.getAttribute("data-view") === name; });
      if (!found) { return; }
      views.forEach(function (v) { v.hidden = v.getAttribute("data-view") !== name; });
      root.setAttribute("data-current-view", name);
    }
    all(root, ".nnscratch-view .module").forEach(function (box) {
      box.addEventListener("click", function () { show("expand-" + box.getAttribute("data-scope")); });
    });
    all(root, "[data-show-view]").forEach(function (button) {
      button.addEventListener("click", function () { show(button.getAttribute("data-show-view")); });
    });
    show(root.getAttribute("data-initial-view") || views[0].getAttribute("data-view"));
  }

  function initStepper(root) {
    var script = root.querySelector("script.nnscratch-frames");
    if (!script) { return; }
    var frames = JSON.parse(script.textContent);
    var slider = root.querySelector("[data-testid=step-slider]");
    var text = root.querySelector("[data-testid=step-text]");
    var counter = root.querySelector("[data-testid=step-counter]");
    var nodes = {};
    all(root, ".nnscratch-stepper-view .node").forEach(function (n) { nodes[n.getAttribute("data-node")] = n; });
    var current = 0;

    function setHidden(node, classes, hidden) {
      classes.forEach(function (cls) {
        all(node, "text." + cls).forEach(function (t) { t.style.visibility = hidden ? "hidden" : "visible"; });
      });
    }

    function render(k) {
      current = Math.max(0, Math.min(frames.length - 1, k));
      var data = {}, grad = {};
      for (var i = 0; i <= current; i++) {
        frames[i].show_data.forEach(function (id) { data[id] = true; });
        frames[i].show_grad.forEach(function (id) { grad[id] = true; });
      }
      Object.keys(nodes).forEach(function (id) {
        var node = nodes[id];
        node.classList.remove("current");
        if (node.classList.contains("value")) {
          setHidden(node, ["data"], !data[id]);
          setHidden(node, ["grad", "fanout"], !grad[id]);
        }
      });
      frames[current].focus.forEach(function (id) { if (nodes[id]) { nodes[id].classList.add("current"); } });
      slider.value = String(current);
      counter.textContent = (current + 1) + " / " + frames.length + " · " + frames[current].phase;
      text.textContent = frames[current].text.join("\n");
      root.setAttribute("data-frame", String(current));
    }

    function onKey(event) {
      var moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
      if (event.key in moves) { render(current + moves[event.key]); event.preventDefault(); }
      else if (event.key === "Home") { render(0); event.preventDefault(); }
      else if (event.key === "End") { render(frames.length - 1); event.preventDefault(); }
    }

    slider.max = String(frames.length - 1);
    slider.addEventListener("input", function () { render(parseInt(slider.value, 10)); });
    var actions = {"step-first": function () { render(0); },
                   "step-prev": function () { render(current - 1); },
                   "step-next": function () { render(current + 1); },
                   "step-last": function () { render(frames.length - 1); }};
    Object.keys(actions).forEach(function (id) {
      var button = root.querySelector("[data-testid=" + id + "]");
      if (button) { button.addEventListener("click", actions[id]); }
    });
    (root.hasAttribute("data-page") ? document : root).addEventListener("keydown", onKey);
    render(0);
  }

  function init(root) {
    if (!root || root.getAttribute("data-ready")) { return; }
    initViews(root);
    initStepper(root);
    root.setAttribute("data-ready", "true");
  }

  return {init: init};
})();
window.nnscratchViz = nnscratchViz;
