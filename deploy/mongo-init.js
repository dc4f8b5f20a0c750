// docker-compose.yml: the official mongo image runs this once, on an empty volume, as the
// root user it created (MONGO_INITDB_ROOT_*). The application's user may read and write its
// own database only; the root user is for setup and is not what the API connects as.
const database = process.env.MONGO_APP_DATABASE || "oneenglish";
db.getSiblingDB("admin").createUser({
  user: process.env.MONGO_APP_USER || "oneenglish_app",
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWrite", db: database }],
});
