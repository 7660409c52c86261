output "gateway_http_url" {
  description = "URL of endpoint http of gateway"
  value = "http://${aws_lb.gateway.dns_name}:8080"
}

output "cluster_name" {
  description = "the ECS cluster"
  value = aws_ecs_cluster.main.name
}
