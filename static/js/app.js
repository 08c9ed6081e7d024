import { AccountPage } from "./account.js";
import { Activity } from "./activity.js";
import { AssistantPage } from "./assistant_page.js";
import { Duplicates } from "./duplicates.js";
import { AlbumsPage } from "./albums.js";
import { signOut } from "./api.js";
import { establishSession } from "./auth.js";
import { CloudPage } from "./cloud_page.js";
import { FavouritesPage } from "./favourites.js";
import { Folders } from "./folders.js";
import { plural } from "./format.js";
import { startMediaTokens } from "./media.js";
import { MoreMenu } from "./nav_menu.js";
import { PeoplePage } from "./people_page.js";
import { PlacesMap } from "./places_map.js";
import { RecognitionPage } from "./recognition_page.js";
import { SearchPage, wireSearchBox } from "./search_page.js";
import { Selection } from "./selection.js";
import { isAdmin } from "./session.js";
import { StatsPage } from "./stats_page.js";
import { Timeline } from "./timeline.js";
import { TrashPage } from "./trash.js";
import { Uploader, acceptDrops } from "./upload.js";
import { UsersPage } from "./users_admin.js";
import { Viewer } from "./viewer.js";

const $ = (selector) => document.querySelector(selector);

// After an upload the new assets appear only once the server has ingested them;
// for people who cannot see the queue, look again a few times.
const UPLOAD_CHECKS_MS = [1_500, 4_000, 10_000, 20_000];
const LOOK_AGAIN_MS = 30_000;

// Pages only administrators may open, and what a reader who is not one is told.
const ADMIN_ONLY = {
  folders: "Only an administrator can add or remove library folders.",
  users: "Only an administrator can manage users.",
  recognition: "Only an administrator can change face recognition.",
  cloud: "Only an administrator can manage cloud accounts.",
};

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
    canAddFolders: isAdmin(user),
    onOpen: (index) => (selection.active ? selection.toggle(index)
      : viewer.open(index)),
    onCount: (count) => {
      $("#library-count").textContent = plural(count, "item");
    },
  });
  const viewer = new Viewer($("#viewer"), timeline, { shell });
  const selection = new Selection({
    bar: $("#selection-bar"), toggle: $("#select-button"),
    canvas: $("[data-testid=timeline-grid]"), source: timeline,
  });
  const folders = new Folders($("#view-folders"), activity);
  const more = new MoreMenu($("#nav-more"));
  const pages = {
    account: new AccountPage($("#view-account"), user),
    users: new UsersPage($("#view-users"), user),
    albums: new AlbumsPage($("#view-albums"), { shell }),
    favourites: new FavouritesPage($("#view-favourites"), { shell }),
    trash: new TrashPage($("#view-trash"), { shell,
      onRestored: () => timeline.reload() }),
    stats: new StatsPage($("#view-stats")),
    map: new PlacesMap($("#view-map")),
    duplicates: new Duplicates($("#view-duplicates"), user),
    search: new SearchPage($("#view-search"), { shell }),
    people: new PeoplePage($("#view-people"), { shell }),
    recognition: new RecognitionPage($("#view-recognition")),
    assistant: new AssistantPage($("#view-assistant"), { shell, user }),
    cloud: new CloudPage($("#view-cloud"), activity),
    adminOnly: new AdminOnlyNotice($("#view-admin-only")),
  };
  wireSearchBox($("#search-box"));
  const uploader = new Uploader($("#uploads"), {
    onFinished: () => refreshAfterUpload(timeline, activity),
  });

  showUser(user, more);
  wireUpload(uploader);
  followQueue(activity, timeline, user);
  shell.hidden = false;
  routeTo(currentRoute(), { timeline, folders, pages, user, more });
  window.addEventListener("hashchange", () => {
    viewer.close();
    routeTo(currentRoute(), { timeline, folders, pages, user, more });
  });

  timeline.start();
  if (isAdmin(user)) activity.start();
}

function currentRoute() {
  const route = window.location.hash.replace(/^#\/?/, "").split("/")[0];
  return ["folders", "account", "users", "albums", "favourites", "trash", "stats",
    "map", "duplicates", "search", "people", "recognition", "cloud",
    "assistant"].includes(route)
    ? route : "timeline";
}

function routeTo(route, { timeline, folders, pages, user, more }) {
  const refused = route in ADMIN_ONLY && !isAdmin(user);
  const shown = refused ? "adminOnly" : route;
  if (refused) pages.adminOnly.explain(ADMIN_ONLY[route]);
  $("#view-timeline").hidden = shown !== "timeline";
  $("#view-folders").hidden = shown !== "folders";
  for (const link of document.querySelectorAll("[data-route]")) {
    const current = link.dataset.route === shown;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  more.showCurrent(shown);

  for (const [name, page] of Object.entries(pages)) {
    if (name === shown) page.show();
    else page.hide();
  }
  if (shown === "folders") {
    folders.show();
  } else {
    folders.hide();
    if (shown === "timeline") timeline.show();
  }
}

function showUser(user, more) {
  const name = user.display_name || user.username;
  $("#user-name").textContent = name;
  more.showUser(name);
  for (const node of document.querySelectorAll("[data-admin-only]")) {
    node.hidden = !isAdmin(user);
  }
  $("#sign-out").addEventListener("click", () => signOut());
}

// Stands in for a page the reader may not open, instead of sending them elsewhere
// without a word.
class AdminOnlyNotice {
  constructor(root) {
    this.root = root;
  }

  explain(text) {
    this.root.querySelector("#admin-only-text").textContent = text;
  }

  show() {
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
  }
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
