output "front_http_url" {
  description = "URL of endpoint http of front"
  value = "http://${aws_lb.front.dns_name}:8088"
}

output "cluster_name" {
  description = "the ECS cluster"
  value = aws_ecs_cluster.main.name
}
