"""The ground floor: database engine, every table and its migrations, storage helpers,
configuration, and the plain types every other floor shares (channel declarations, delivery
outcomes). It imports no other package of the project."""
