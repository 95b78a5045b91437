-- Posts seen most often
SELECT p.title, count(*) AS sightings, count(DISTINCT s.source) AS sources
FROM posts p JOIN sightings s ON s.post_id = p.id
GROUP BY ALL
ORDER BY sightings DESC, p.title
LIMIT 20
