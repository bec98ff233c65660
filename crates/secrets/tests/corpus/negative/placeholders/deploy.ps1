Connect-VIServer -Server $vc -User $user -Password $pass
net use Z: \\fs01\share /user:%USERNAME% %PASSWORD%
