-- Most common keywords
SELECT term, count(*) AS posts, round(avg(weight), 3) AS avg_weight
FROM post_keywords
GROUP BY term
ORDER BY posts DESC, term
LIMIT 20
