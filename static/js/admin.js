// The admin console's only script. A set-password link carries its token after "#": browsers never send
// the fragment, so the token stays out of server logs and Referer headers. This copies it into the form
// and drops it from the address bar.
const form = document.getElementById('set-password');
if (form) {
  const token = window.location.hash.slice(1);
  if (token) {
    document.getElementById('token').value = token;
    window.history.replaceState(null, '', window.location.pathname);
  } else if (!document.getElementById('password-error')) {
    document.getElementById('no-token').hidden = false;
  }
}
