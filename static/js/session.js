// Tokens live in localStorage so a reload keeps the person signed in; the refresh
// token rotates on every use, so whatever the server last answered is what we keep.
const ACCESS_KEY = "lumilio.token";
const REFRESH_KEY = "lumilio.refreshToken";

export function accessToken() {
  return localStorage.getItem(ACCESS_KEY);
}

export function refreshToken() {
  return localStorage.getItem(REFRESH_KEY);
}

export function saveTokens(answer) {
  localStorage.setItem(ACCESS_KEY, answer.token);
  localStorage.setItem(REFRESH_KEY, answer.refreshToken);
}

export function clearTokens() {
  localStorage.removeItem(ACCESS_KEY);
  localStorage.removeItem(REFRESH_KEY);
}

export function isAdmin(user) {
  return user?.role === "admin";
}
