// docker-compose.yml's "scaled" profile: run once by the mongo-rs-init service, as the root
// user of mongo1, to make mongo1, mongo2 and mongo3 one replica set (rs0). Members 2 and 3
// copy mongo1's data, the users created by mongo-init.js included, by initial sync.
try {
  rs.status();
  print("rs0 already initiated");
} catch (error) {
  rs.initiate({
    _id: "rs0",
    members: [
      { _id: 0, host: "mongo1:27017", priority: 2 },
      { _id: 1, host: "mongo2:27017", priority: 1 },
      { _id: 2, host: "mongo3:27017", priority: 1 },
    ],
  });
  print("rs0 initiated");
}
