import { Activity } from "./activity.js";
import { signOut } from "./api.js";
import { establishSession } from "./auth.js";
import { Folders } from "./folders.js";
import { plural } from "./format.js";
import { startMediaTokens } from "./media.js";
import { isAdmin } from "./session.js";
import { Timeline } from "./timeline.js";
import { Uploader, acceptDrops } from "./upload.js";
import { Viewer } from "./viewer.js";

const $ = (selector) => document.querySelector(selector);

// After an upload the new assets appear only once the server has ingested them;
// for people who cannot see the queue, look again a few times.
const UPLOAD_CHECKS_MS = [1_500, 4_000, 10_000, 20_000];
const LOOK_AGAIN_MS = 30_000;

async function boot() {
  // Once the library is showing, losing the session starts over at the sign-in
  // form; before that, the sign-in flow is already where it has to be.
  window.addEventListener("lumilio:signed-out", () => {
    if (!$("#shell").hidden) window.location.reload();
  });

  const user = await establishSession($("#auth"));
  await startMediaTokens();
  startLibrary(user);
}

function startLibrary(user) {
  const shell = $("#shell");
  const activity = new Activity($("#activity"));
  const timeline = new Timeline($("#view-timeline"), {
    onOpen: (index) => viewer.open(index),
    onCount: (count) => {
      $("#library-count").textContent = plural(count, "item");
    },
  });
  const viewer = new Viewer($("#viewer"), timeline, { shell });
  const folders = new Folders($("#view-folders"), activity);
  const uploader = new Uploader($("#uploads"), {
    onFinished: () => refreshAfterUpload(timeline, activity),
  });

  showUser(user);
  wireUpload(uploader);
  followQueue(activity, timeline, user);
  shell.hidden = false;
  routeTo(currentRoute(), { timeline, folders, user });
  window.addEventListener("hashchange", () => {
    viewer.close();
    routeTo(currentRoute(), { timeline, folders, user });
  });

  timeline.start();
  if (isAdmin(user)) activity.start();
}

function currentRoute() {
  const route = window.location.hash.replace(/^#\/?/, "").split("/")[0];
  return route === "folders" ? "folders" : "timeline";
}

function routeTo(route, { timeline, folders, user }) {
  const onFolders = route === "folders" && isAdmin(user);
  $("#view-timeline").hidden = onFolders;
  $("#view-folders").hidden = !onFolders;
  for (const link of document.querySelectorAll("[data-route]")) {
    const current = link.dataset.route === (onFolders ? "folders" : "timeline");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }

  if (onFolders) {
    folders.show();
  } else {
    folders.hide();
    timeline.show();
  }
}

function showUser(user) {
  $("#user-name").textContent = user.display_name || user.username;
  for (const node of document.querySelectorAll("[data-admin-only]")) {
    node.hidden = !isAdmin(user);
  }
  $("#sign-out").addEventListener("click", () => signOut());
}

function wireUpload(uploader) {
  const input = $("#upload-input");
  $("#upload-button").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    uploader.add(input.files);
    input.value = "";
  });
  acceptDrops($("#drop-overlay"), (files) => uploader.add(files));
}

// Every look at the queue is also a cheap look for new items. When the queue falls
// quiet the timeline reloads once more, so late changes (failed items, sizes known
// only after processing) show up too.
function followQueue(activity, timeline, user) {
  activity.subscribe(({ busy, wasBusy }) => {
    if (wasBusy && !busy) timeline.reload();
    else timeline.checkForChanges();
  });

  // Only administrators may see the queue; everyone else looks now and then.
  if (!isAdmin(user)) {
    setInterval(() => {
      if (document.visibilityState === "visible") timeline.checkForChanges();
    }, LOOK_AGAIN_MS);
  }
}

function refreshAfterUpload(timeline, activity) {
  activity.nudge();
  for (const delay of UPLOAD_CHECKS_MS) {
    setTimeout(() => timeline.checkForChanges(), delay);
  }
}

boot();
