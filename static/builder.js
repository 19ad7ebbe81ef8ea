// The form builder, quicker with a script (everything also works without one): fields move by
// drag or by Move up / Move down without a round trip (focus stays on the field, the new place is
// announced), the preview beside follows what is typed, and leaving with unsaved changes asks
// first. Saving is still the one Save button: the order sent is the order on the page.
(function () {
  'use strict';
  var form = document.getElementById('draft-form');
  if (!form) return;
  var list = document.getElementById('builder-fields');
  var status = document.getElementById('draft-state');
  var preview = document.getElementById('preview-update');
  var dirty = form.hasAttribute('data-unsaved');
  var timer = null;

  function say(text) {
    if (status) status.textContent = text;
  }

  function refreshPreview() {
    if (!preview) return;
    clearTimeout(timer);
    timer = setTimeout(function () { form.requestSubmit(preview); }, 500);
  }

  function changed() {
    if (!dirty) say(form.getAttribute('data-unsaved-text'));
    dirty = true;
    refreshPreview();
  }

  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  form.addEventListener('submit', function (e) {
    if (e.submitter !== preview) dirty = false;
  });
  window.addEventListener('beforeunload', function (e) {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = '';
  });
  if (!list) return;

  function items() {
    return Array.prototype.slice.call(list.children);
  }

  // Numbers, the buttons' positions, and which ends cannot move further.
  function renumber() {
    var all = items();
    all.forEach(function (li, i) {
      var number = li.querySelector('.field-number');
      if (number) number.textContent = (i + 1) + '.';
      var up = li.querySelector('.move-up');
      var down = li.querySelector('.move-down');
      var remove = li.querySelector('.remove');
      if (up) { up.value = 'up:' + i; up.hidden = i === 0; }
      if (down) { down.value = 'down:' + i; down.hidden = i === all.length - 1; }
      if (remove) remove.value = 'remove:' + i;
    });
  }

  function moved(li, button) {
    renumber();
    changed();
    var all = items();
    var name = li.querySelector('legend').textContent.replace(/^\s*\d+\.\s*/, '').trim();
    say(form.getAttribute('data-moved')
      .replace('{field}', name)
      .replace('{position}', String(all.indexOf(li) + 1))
      .replace('{total}', String(all.length)));
    if (!button) return;
    // Keep focus on the field that moved: the same button, or the other one at an end.
    var other = li.querySelector(button.classList.contains('move-up') ? '.move-down' : '.move-up');
    (button.hidden ? other : button).focus();
  }

  list.addEventListener('click', function (e) {
    var button = e.target.closest('button.move-up, button.move-down');
    if (!button) return;
    e.preventDefault();
    var li = button.closest('li');
    if (button.classList.contains('move-up') && li.previousElementSibling) {
      list.insertBefore(li, li.previousElementSibling);
    } else if (button.classList.contains('move-down') && li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
    }
    moved(li, button);
  });

  // Drag by the field's number (the only draggable part, so text in the inputs can still be
  // selected).
  var dragged = null;
  list.addEventListener('dragstart', function (e) {
    var handle = e.target.closest && e.target.closest('.field-number');
    dragged = handle ? handle.closest('li') : null;
    if (!dragged) return;
    e.dataTransfer.effectAllowed = 'move';
    e.dataTransfer.setData('text/plain', dragged.id);
    dragged.classList.add('dragging');
  });
  list.addEventListener('dragover', function (e) {
    var over = e.target.closest('li');
    if (!dragged || !over || over === dragged) return;
    e.preventDefault();
    var box = over.getBoundingClientRect();
    list.insertBefore(dragged, e.clientY < box.top + box.height / 2 ? over : over.nextElementSibling);
  });
  list.addEventListener('drop', function (e) {
    if (dragged) e.preventDefault();
  });
  list.addEventListener('dragend', function () {
    if (!dragged) return;
    var li = dragged;
    dragged = null;
    li.classList.remove('dragging');
    moved(li, null);
  });
})();
